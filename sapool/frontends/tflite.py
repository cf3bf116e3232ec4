"""Front end for .tflite files: an int8 model passes straight through to planning and export.

sapool does not quantise a flatbuffer (its source graph is gone; calibration and the SAP lowering work on torch),
so a .tflite whose ops compute in float is refused with what to do instead. A float *interface* is accepted: an
int8 model whose float inputs only feed QUANTIZE and whose float outputs only come from DEQUANTIZE (the TFLite
converter's default), which the C backend and both interpreters run as they are.
"""

from __future__ import annotations

from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends.loaded import TFLITE_INT8, LoadedModel

FLOAT_DTYPES = ("float32", "float16", "float64")
BOUNDARY_OPS = ("QUANTIZE", "DEQUANTIZE")


def load_int8_tflite(path: Path) -> LoadedModel:
    """Bytes and Graph of an int8 .tflite: every run-time (non-constant) tensor has an integer type, except the
    float side of QUANTIZE / DEQUANTIZE ops at a float interface. `input_shape` is the (first) input's shape as
    stored, NHWC for images."""
    from sapool.ir.read import read_tflite_bytes

    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInputError(f"{path}: cannot read ({err.strerror or err})") from None
    graph = read_tflite_bytes(data, name=str(path))
    _check_integer_ops(path, graph)
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


def _check_integer_ops(path: Path, graph) -> None:
    """Refuse an op that computes in float; QUANTIZE / DEQUANTIZE convert at a float interface and may."""
    float_tensors = {t.index: t.name for t in graph.activations() if t.dtype in FLOAT_DTYPES}
    inner = [op for op in graph.ops if op.opcode not in BOUNDARY_OPS
             and any(i in float_tensors for i in (*op.inputs, *op.outputs) if i is not None and i >= 0)]
    if inner:
        example = next(float_tensors[i] for i in (*inner[0].inputs, *inner[0].outputs) if i in float_tensors)
        raise UnsupportedError(
            f"{path}: float .tflite ({len(float_tensors)} float tensors, e.g. {example!r} of op "
            f"{inner[0].index} ({inner[0].opcode})): compile it from its source model (.pt/.onnx) or quantise it "
            "to int8 first")
