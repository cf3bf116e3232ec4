"""Window geometry of CONV_2D, DEPTHWISE_CONV_2D and the 2-D pools: kernel, stride, dilation and padding per side.

One answer for every reader (the C lowerings, the in-place rule, the patch stage and its checker): SAME and VALID
as TFLite's Prepare computes them (kernels/padding.h: the odd row or column of SAME goes after the image), and
EXPLICIT as the op's `pads` say (a PAD folded into the op by sapool.passes.fold_pad).
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

WINDOWED_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"})


@dataclass(frozen=True)
class Axis:
    """One windowed op along rows (axis 0) or columns (axis 1)."""

    kernel: int
    stride: int
    dilation: int
    in_size: int
    out_size: int
    pad_before: int
    pad_after: int

    @property
    def span(self) -> int:
        """Input rows (columns) one window covers, dilation included."""
        return (self.kernel - 1) * self.dilation + 1


def window_axis(graph: Graph, op: Op, axis: int) -> Axis:
    """`op`'s window along `axis` (0: rows, 1: columns) of its NHWC input and output."""
    options = op.options
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        kernel = graph.tensor(op.inputs[1]).shape[1 + axis]
        dilation = (options.dilation_h, options.dilation_w)[axis]
    else:
        kernel, dilation = (options.filter_h, options.filter_w)[axis], 1
    stride = (options.stride_h, options.stride_w)[axis]
    in_size = graph.tensor(op.inputs[0]).shape[1 + axis]
    out_size = graph.tensor(op.outputs[0]).shape[1 + axis]
    before, after = padding(options.padding, options.pads[2 * axis:2 * axis + 2], stride, dilation, in_size, kernel,
                            out_size)
    return Axis(kernel, stride, dilation, in_size, out_size, before, after)


def padding(mode: str, pads: tuple[int, int], stride: int, dilation: int, in_size: int, kernel: int,
            out_size: int) -> tuple[int, int]:
    """(before, after) padding of one axis: EXPLICIT's `pads`; SAME's total split with the odd one after; none
    for VALID."""
    if mode == "EXPLICIT":
        return int(pads[0]), int(pads[1])
    if mode == "VALID":
        return 0, 0
    total = max(0, (out_size - 1) * stride + (kernel - 1) * dilation + 1 - in_size)
    return total // 2, total - total // 2


def output_size(mode: str, pads: tuple[int, int], in_size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """The output size TFLite computes for SAME and VALID, and the padded input's VALID size for EXPLICIT."""
    span = (kernel - 1) * dilation + 1
    if mode == "SAME":
        return (in_size + stride - 1) // stride
    if mode == "VALID":
        return (in_size + stride - span) // stride
    if mode == "EXPLICIT":
        return (in_size + pads[0] + pads[1] - span) // stride + 1
    raise UnsupportedError(f"padding {mode} is not supported")
