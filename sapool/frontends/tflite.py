"""Front end for .tflite files: a full-int8 model passes straight through to planning and export.

sapool does not quantise a float flatbuffer (its source graph is gone; calibration and the SAP lowering work on
torch), so a .tflite whose run-time tensors are float is refused with what to do instead.
"""

from __future__ import annotations

from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends.loaded import TFLITE_INT8, LoadedModel

FLOAT_DTYPES = ("float32", "float16", "float64")


def load_int8_tflite(path: Path) -> LoadedModel:
    """Bytes and Graph of a full-integer .tflite: every run-time (non-constant) tensor has an integer type."""
    from sapool.ir.read import read_tflite_bytes

    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInputError(f"{path}: cannot read ({err.strerror or err})") from None
    graph = read_tflite_bytes(data, name=str(path))
    float_tensors = [t.name for t in graph.activations() if t.dtype in FLOAT_DTYPES]
    if float_tensors:
        raise UnsupportedError(
            f"{path}: float .tflite ({len(float_tensors)} float tensors, e.g. {float_tensors[0]!r}): compile it "
            "from its source model (.pt/.onnx) or quantise it to int8 first")
    if len(graph.inputs) != 1:
        raise UnsupportedError(f"{path}: the model has {len(graph.inputs)} inputs; sapool compiles one-input models")
    input_tensor = graph.tensor(graph.inputs[0])
    return LoadedModel(
        kind=TFLITE_INT8,
        path=path,
        module=None,
        input_shape=tuple(input_tensor.shape),
        tflite=data,
        graph=graph,
        description=f"int8 TFLite model: {len(graph.ops)} ops, input {input_tensor.dtype} {list(input_tensor.shape)}",
    )
