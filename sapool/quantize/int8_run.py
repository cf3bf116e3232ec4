"""Run an int8 .tflite on float NCHW images: quantise the input as the model's input tensor says, run TFLite's
reference kernels, dequantise the results.

The interpreter is `sapool.verify.interpreters.run_model` with "litert-ref" (ai-edge-litert's BUILTIN_REF kernels,
in a subprocess, so a crashing kernel is an error line, not a dead sapool).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapool.ir.graph import Graph, Tensor


@dataclass(frozen=True)
class Int8Run:
    """Dequantised output (N, *output shape without batch) and, if asked for, every activation tensor index →
    dequantised values (N, *shape without batch)."""

    outputs: np.ndarray
    intermediates: dict[int, np.ndarray]


def run_int8(tflite: bytes, graph: Graph, images, *, intermediates: bool = False,
             channels_first: bool = True) -> Int8Run:
    """`images`: float inputs (torch or numpy) prepared for the float model, in its layout; the int8 model reads
    them in its own (io_layout: NHWC for images). With `channels_first=False` the values are already in the int8
    model's layout (an int8 .tflite's own data)."""
    from sapool.quantize.io_layout import to_int8_layout
    from sapool.verify.interpreters import run_model

    values = np.asarray(images, dtype=np.float32)
    if channels_first:
        values = to_int8_layout(values)
    quantized = quantize(values, graph.tensor(graph.inputs[0]))
    result = run_model(tflite, quantized, "litert-ref", intermediates=intermediates)
    saved = {index: dequantize(_without_batch_axis(values, graph.tensor(index)), graph.tensor(index))
             for index, values in (result.intermediates or {}).items()}
    return Int8Run(dequantize(result.outputs, graph.tensor(graph.outputs[0])), saved)


def _without_batch_axis(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    """(N, 1, …) → (N, …) for tensors with a batch axis of 1; (N·heads)-batched tensors keep their shape."""
    return values[:, 0] if tensor.shape[:1] == (1,) else values


def quantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Float values in `tensor`'s integer type (int8, int16…), or kept float for a float32 interface tensor."""
    if tensor.quantization is None or not tensor.quantization.scale:
        return values.astype(np.dtype(tensor.dtype))
    scale, zero_point = _scale_and_zero_point(tensor)
    limits = np.iinfo(np.dtype(tensor.dtype))
    return np.clip(np.round(values / scale) + zero_point, limits.min, limits.max).astype(tensor.dtype)


def dequantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    if tensor.quantization is None or not tensor.quantization.scale:
        return values.astype(np.float32)
    scale, zero_point = _scale_and_zero_point(tensor)
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _scale_and_zero_point(tensor: Tensor) -> tuple[float, int]:
    quantization = tensor.quantization
    return float(quantization.scale[0]), int(quantization.zero_point[0])
