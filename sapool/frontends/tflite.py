"""Front end for .tflite files: a full-integer model passes straight through to planning and export.

sapool does not quantise a flatbuffer (its source graph is gone; calibration and the SAP lowering work on torch),
so a .tflite with float run-time tensors is refused with what to do instead. Two cases get their own message:
a float model, and an int8 model whose input or output is float (QUANTIZE / DEQUANTIZE at its boundary, the
TFLite converter's default), which only needs converting again with int8 input and output.
"""

from __future__ import annotations

from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends.loaded import TFLITE_INT8, LoadedModel

FLOAT_DTYPES = ("float32", "float16", "float64")
BOUNDARY_OPS = ("QUANTIZE", "DEQUANTIZE")


def load_int8_tflite(path: Path) -> LoadedModel:
    """Bytes and Graph of a full-integer .tflite: every run-time (non-constant) tensor has an integer type.
    `input_shape` is the (first) input's shape as stored, NHWC for images."""
    from sapool.ir.read import read_tflite_bytes

    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInputError(f"{path}: cannot read ({err.strerror or err})") from None
    graph = read_tflite_bytes(data, name=str(path))
    _check_full_integer(path, graph)
    first = graph.tensor(graph.inputs[0])
    inputs = f"{len(graph.inputs)} inputs, first" if len(graph.inputs) > 1 else "input"
    return LoadedModel(
        kind=TFLITE_INT8,
        path=path,
        module=None,
        input_shape=tuple(first.shape),
        tflite=data,
        graph=graph,
        description=f"int8 TFLite model: {len(graph.ops)} ops, {inputs} {first.dtype} {list(first.shape)}",
    )


def _check_full_integer(path: Path, graph) -> None:
    float_tensors = {t.index: t.name for t in graph.activations() if t.dtype in FLOAT_DTYPES}
    if not float_tensors:
        return
    inner = [op for op in graph.ops if op.opcode not in BOUNDARY_OPS
             and any(i in float_tensors for i in (*op.inputs, *op.outputs) if i is not None and i >= 0)]
    if inner:
        example = next(float_tensors[i] for i in (*inner[0].inputs, *inner[0].outputs) if i in float_tensors)
        raise UnsupportedError(
            f"{path}: float .tflite ({len(float_tensors)} float tensors, e.g. {example!r} of {inner[0].opcode}): "
            "compile it from its source model (.pt/.onnx) or quantise it to int8 first")
    raise UnsupportedError(
        f"{path}: int8 .tflite with a float input or output (QUANTIZE/DEQUANTIZE at its boundary); sapool compiles "
        "full-integer models: convert it again with int8 input and output (inference_input_type and "
        "inference_output_type int8), or give sapool its source model (.pt/.onnx)")
