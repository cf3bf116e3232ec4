"""Shape algebra shared by graph passes and kernel lowerings."""

from __future__ import annotations


def merge_dims(dims, *stride_lists) -> tuple[list[int], list[list[int]]]:
    """Drop size-1 dimensions and merge neighbours that every operand walks as one (stride[i] = stride[i+1]·dim)."""
    kept = [i for i, size in enumerate(dims) if size != 1]
    merged_dims: list[int] = []
    merged_strides: list[list[int]] = [[] for _ in stride_lists]
    for i in kept:
        joinable = merged_dims and all(s[i] * dims[i] == m[-1] for s, m in zip(stride_lists, merged_strides))
        if joinable:
            merged_dims[-1] *= dims[i]
            for s, m in zip(stride_lists, merged_strides):
                m[-1] = s[i]
        else:
            merged_dims.append(dims[i])
            for s, m in zip(stride_lists, merged_strides):
                m.append(s[i])
    return merged_dims, merged_strides
