"""Shapes as the N-D kernels walk them: element strides, broadcasting, merged dimensions, fixed rank.

The broadcasting, transposing and padding kernels loop over a fixed number of dimensions (6, TFLite's limit for
these ops) with one stride per operand and dimension. These helpers compute those strides at compile time and
merge dimensions that every operand walks contiguously, so the common cases run as one long innermost loop.
"""

from __future__ import annotations

import math

from sapool.errors import UnsupportedError

KERNEL_RANK = 6


def contiguous_strides(shape) -> list[int]:
    """Row-major element strides of `shape`."""
    return [math.prod(shape[i + 1:]) for i in range(len(shape))]


def broadcast_strides(out_shape, operand_shape) -> list[int]:
    """The operand's element stride along each output dimension; 0 where it broadcasts (numpy/TFLite rules)."""
    padded = [1] * (len(out_shape) - len(operand_shape)) + list(operand_shape)
    strides = [0] * (len(out_shape) - len(operand_shape)) + contiguous_strides(operand_shape)
    return [0 if size == 1 and out != 1 else stride for size, out, stride in zip(padded, out_shape, strides)]


def to_rank(values, rank: int = KERNEL_RANK, fill: int = 1) -> list[int]:
    """`values` with leading `fill` entries up to `rank` (the kernels' fixed loop nest)."""
    if len(values) > rank:
        raise UnsupportedError(f"{len(values)} dimensions after merging; the kernel takes at most {rank}")
    return [fill] * (rank - len(values)) + [int(v) for v in values]
