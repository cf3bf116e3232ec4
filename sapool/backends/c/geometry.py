"""Output sizes and padding of windowed ops, as TFLite computes them in Prepare (kernels/padding.h)."""

from __future__ import annotations

from sapool.errors import UnsupportedError


def output_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    if padding == "VALID":
        return (in_size + stride - effective) // stride
    raise UnsupportedError(f"padding {padding} is not supported")


def leading_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """Padding before the first row/column: half the total, rounded down (the odd pixel goes after)."""
    effective = (filter_size - 1) * dilation + 1
    total = max(0, (out_size - 1) * stride + effective - in_size)
    return total // 2


def check_output_size(padding: str, in_hw: tuple[int, int], filter_hw: tuple[int, int], strides: tuple[int, int],
                      dilations: tuple[int, int], out_hw: tuple[int, int]) -> None:
    """The model's stored output shape must be the one TFLite would compute, or offsets would be wrong."""
    expected = tuple(output_size(padding, i, f, s, d) for i, f, s, d in zip(in_hw, filter_hw, strides, dilations))
    if expected != tuple(out_hw):
        raise UnsupportedError(f"output size {list(out_hw)} differs from the {padding} size {list(expected)}")
