"""Run an int8 .tflite on float NCHW images: quantise the input as the model's input tensor says, run TFLite's
reference kernels, dequantise the results.

`_reference_run` is ai-edge-litert with BUILTIN_REF in this process, with the signature of
`sapool.verify.interpreters.run_model` (the same run in a subprocess) so that it can replace it once that is on main.
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


def run_int8(tflite: bytes, graph: Graph, images, *, intermediates: bool = False) -> Int8Run:
    """`images`: float N×C×H×W (torch or numpy) prepared for the float model; the int8 model reads them NHWC."""
    nhwc = np.asarray(images, dtype=np.float32).transpose(0, 2, 3, 1)
    quantized = quantize(nhwc, graph.tensor(graph.inputs[0]))
    outputs, raw = _reference_run(tflite, graph, quantized, intermediates=intermediates)
    saved = {index: dequantize(values, graph.tensor(index)) for index, values in raw.items()}
    return Int8Run(dequantize(outputs, graph.tensor(graph.outputs[0])), saved)


def _reference_run(tflite: bytes, graph: Graph, inputs: np.ndarray, *, intermediates: bool):
    """TFLite's reference kernels on each input (N, *input shape without batch): outputs and activations."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=tflite, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                              experimental_preserve_all_tensors=intermediates)
    interpreter.allocate_tensors()
    wanted = [t.index for t in graph.activations()] if intermediates else []
    outputs, saved = [], {index: [] for index in wanted}
    for sample in inputs:
        interpreter.set_tensor(graph.inputs[0], sample[np.newaxis])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(graph.outputs[0])[0])
        for index in wanted:
            saved[index].append(interpreter.get_tensor(index)[0] if graph.tensor(index).shape[:1] == (1,)
                                else interpreter.get_tensor(index))
    return np.stack(outputs), {index: np.stack(values) for index, values in saved.items()}


def quantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    scale, zero_point = _scale_and_zero_point(tensor)
    return np.clip(np.round(values / scale) + zero_point, -128, 127).astype(np.int8)


def dequantize(values: np.ndarray, tensor: Tensor) -> np.ndarray:
    if tensor.quantization is None or not tensor.quantization.scale:
        return values.astype(np.float32)
    scale, zero_point = _scale_and_zero_point(tensor)
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _scale_and_zero_point(tensor: Tensor) -> tuple[float, int]:
    quantization = tensor.quantization
    return float(quantization.scale[0]), int(quantization.zero_point[0])
