"""Small readers over Graph tensors that every lowering needs: quantisation, shapes as NHWC, activation ranges."""

from __future__ import annotations

from sapool.backends.c.quant import activation_range
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Tensor


def scale(tensor: Tensor) -> float:
    """The per-tensor scale; raises for an unquantised tensor."""
    return _quant(tensor).scale[0]


def zero_point(tensor: Tensor) -> int:
    return _quant(tensor).zero_point[0]


def require_int8(graph: Graph, *indices: int) -> None:
    """Every given tensor is per-tensor quantised int8 (the only activation type the kernels take)."""
    for index in indices:
        tensor = graph.tensor(index)
        if tensor.dtype != "int8":
            raise UnsupportedError(f"tensor {index} '{tensor.name}' is {tensor.dtype}; the C kernels take int8")
        if tensor.quantization is None or tensor.quantization.per_channel:
            raise UnsupportedError(f"tensor {index} '{tensor.name}' is not per-tensor quantised")


def nhwc(tensor: Tensor) -> tuple[int, int, int, int]:
    if len(tensor.shape) != 4:
        raise UnsupportedError(f"tensor '{tensor.name}' has shape {list(tensor.shape)}; expected 4-D NHWC")
    return tuple(tensor.shape)


def clamp_range(activation: str, output: Tensor) -> tuple[int, int]:
    """The int8 bounds of a fused activation on `output`; TANH and others are not fusable in int8 kernels."""
    if activation not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise UnsupportedError(f"fused activation {activation} is not supported")
    return activation_range(activation, scale(output), zero_point(output))


def _quant(tensor: Tensor):
    if tensor.quantization is None:
        raise UnsupportedError(f"tensor '{tensor.name}' has no quantisation parameters")
    return tensor.quantization
