"""Small helpers op handlers share: reading constant operands and ONNX spatial padding."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sapool.frontends.onnx.builder import Const, FxBuilder, Traced, Value
from sapool.frontends.onnx.node import OnnxNode


def constant(node: OnnxNode, value: Value | None, what: str) -> torch.Tensor:
    """The tensor of an operand that must be known at conversion time (weights, shapes, axes)."""
    if value is None:
        raise node.unsupported(f"missing {what}")
    if not isinstance(value, Const):
        raise node.unsupported(f"its {what} is computed at run time; sapool needs it constant")
    return value.value


def constant_ints(node: OnnxNode, value: Value | None, what: str) -> list[int]:
    return [int(item) for item in constant(node, value, what).reshape(-1).tolist()]


def traced(node: OnnxNode, value: Value | None, what: str = "input") -> Traced:
    """The operand that must be run-time data (a layer applied to a constant is not a model sapool compiles)."""
    if not isinstance(value, Traced):
        raise node.unsupported(f"its {what} is a constant, not run-time data")
    return value


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def spatial_pads(node: OnnxNode, spatial_shape, kernel, strides, dilations) -> list[tuple[int, int]]:
    """(begin, end) padding per spatial axis from `pads` or `auto_pad` (SAME_UPPER puts the odd pixel at the end)."""
    auto_pad = node.attr("auto_pad", "NOTSET")
    rank = len(kernel)
    if auto_pad == "VALID":
        return [(0, 0)] * rank
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(spatial_shape, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small = total // 2
            pads.append((small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small))
        return pads
    if auto_pad != "NOTSET":
        raise node.unsupported(f"auto_pad {auto_pad!r}")
    flat = node.attr("pads", [0] * (2 * rank))
    return list(zip(flat[:rank], flat[rank:]))


def torch_pad_order(pads: list[tuple[int, int]]) -> tuple[int, ...]:
    """F.pad's argument for (begin, end) pairs of the trailing axes: last axis first."""
    return tuple(amount for pair in reversed(pads) for amount in pair)


def symmetric_padding(b: FxBuilder, node: OnnxNode, x: Traced, pads: list[tuple[int, int]], kernel,
                      fill: float) -> tuple[Traced, tuple[int, ...]]:
    """`x` and the per-axis padding a torch conv/pool layer can apply itself (equal on both sides, at most half
    the kernel); other padding is applied here with an explicit F.pad of `fill` and the layer pads nothing."""
    if all(begin == end and begin <= k // 2 for (begin, end), k in zip(pads, kernel)):
        return x, tuple(begin for begin, _ in pads)
    padded = b.call(F.pad, x, torch_pad_order(pads), value=fill, name=f"{node.name}_pad")
    return padded, (0,) * len(pads)
