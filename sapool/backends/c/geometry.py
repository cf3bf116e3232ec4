"""Windowed ops' output sizes and leading padding for the C lowerings, from sapool.ir.windows (one geometry for
the lowerings, the in-place rule and the patch stage)."""

from __future__ import annotations

from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.ir.windows import output_size, window_axis


def leading_padding(graph: Graph, op: Op) -> tuple[int, int]:
    """(pad_top, pad_left): the kernels pad before the image by these and clip windows at its far edges, so any
    padding after the image (SAME's odd row, an EXPLICIT bottom/right) follows from the output size."""
    return window_axis(graph, op, 0).pad_before, window_axis(graph, op, 1).pad_before


def check_output_size(graph: Graph, op: Op) -> None:
    """The model's stored output shape must be the one TFLite would compute, or offsets would be wrong."""
    options = op.options
    axes = [window_axis(graph, op, axis) for axis in (0, 1)]
    expected = tuple(output_size(options.padding, options.pads[2 * n:2 * n + 2], a.in_size, a.kernel, a.stride,
                                 a.dilation) for n, a in enumerate(axes))
    stored = tuple(a.out_size for a in axes)
    if expected != stored:
        raise UnsupportedError(f"output size {list(stored)} differs from the {options.padding} size {list(expected)}")
