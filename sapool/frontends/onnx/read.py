"""Read and validate an ONNX file: protobuf decoding, onnx.checker, and the one static-shape float input.

Everything wrong with the file itself is one BadInputError line naming it; a valid model outside what sapool
compiles (several inputs, integer input) is an UnsupportedError. A symbolic batch dimension becomes 1.

Models converted from TensorFlow (tf2onnx) take NHWC images and transpose them to NCHW first. When the input
feeds nothing but such Transposes (perm 0,3,1,2), `InputSpec.channels_last` is set: the converter drops those
Transposes and the torch module takes NCHW like every other torch front end (the int8 TFLite model sapool
makes takes NHWC either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError

DEFAULT_DOMAINS = ("", "ai.onnx")
MAX_INPUT_ELEMENTS = 1 << 24  # 64 MiB of float input: far beyond any image an MCU model takes
MAX_EXTERNAL_BYTES = 2 << 30


NHWC_TO_NCHW = [0, 3, 1, 2]


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]  # as the ONNX file declares it (batch 1)
    channels_last: bool = False  # NHWC input that only feeds Transpose(0, 3, 1, 2) nodes

    @property
    def module_shape(self) -> tuple[int, ...]:
        """The converted module's input shape: NCHW when the file's input is channels-last."""
        if not self.channels_last:
            return self.shape
        return tuple(self.shape[axis] for axis in NHWC_TO_NCHW)


def read_onnx(path: Path):
    """The checked onnx.ModelProto (external data, if any, loaded from beside the file)."""
    import onnx
    from google.protobuf.message import DecodeError

    from sapool.input_files import require_regular_file

    require_regular_file(path, "model")
    try:
        model = onnx.load(str(path), load_external_data=False)
        _load_external_data(path, model)
    except (DecodeError, ValueError, OSError, RuntimeError) as err:
        raise BadInputError(f"{path}: not a readable ONNX model (corrupt or truncated: {_first_line(err)})") from None
    if not model.graph.node:
        raise BadInputError(f"{path}: not an ONNX model (no graph nodes; corrupt or not ONNX at all)")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        raise BadInputError(f"{path}: invalid ONNX model ({_first_line(err)})") from None
    except UnicodeDecodeError:  # a name or string attribute that is not UTF-8 (a corrupt file)
        raise BadInputError(f"{path}: invalid ONNX model (a name or string is not UTF-8: corrupt file?)") from None
    return model


def _load_external_data(path: Path, model) -> None:
    """Load tensors stored beside the model, refusing any whose file lies outside the model's folder (an absolute
    path, `..`, or a link leading out), is not a regular file, or is larger than MAX_EXTERNAL_BYTES in total."""
    from onnx.external_data_helper import _get_all_tensors, load_external_data_for_model, uses_external_data

    from sapool.input_files import require_regular_file

    folder = Path(path).resolve().parent
    total = 0
    external = [tensor for tensor in _get_all_tensors(model) if uses_external_data(tensor)]
    for tensor in external:
        location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or folder not in target.parents:
            raise BadInputError(f"{path}: tensor {tensor.name!r} keeps its data in {location!r}, outside the model's "
                                "folder; sapool reads external data only from beside the model")
        total += require_regular_file(target, "external data file", max_bytes=MAX_EXTERNAL_BYTES)
        if total > MAX_EXTERNAL_BYTES:
            raise BadInputError(f"{path}: external data of more than {MAX_EXTERNAL_BYTES:,} bytes")
    if external:
        load_external_data_for_model(model, str(folder))


def default_opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    raise BadInputError("ONNX model imports no default-domain opset")


def input_spec(path: Path, model) -> InputSpec:
    """The graph's single run-time input (initializers listed as inputs by old exporters are not inputs)."""
    from onnx import TensorProto

    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise UnsupportedError(f"{path}: the graph has {len(inputs)} inputs; sapool compiles one-input models")
    tensor_type = inputs[0].type.tensor_type
    if tensor_type.elem_type != TensorProto.FLOAT:
        raise UnsupportedError(f"{path}: input {inputs[0].name!r} is "
                               f"{TensorProto.DataType.Name(tensor_type.elem_type)}; sapool compiles float models")
    if not tensor_type.HasField("shape"):
        raise BadInputError(f"{path}: input {inputs[0].name!r} has no shape; export with a fixed input shape")
    shape = []
    for axis, dim in enumerate(tensor_type.shape.dim):
        if dim.HasField("dim_value") and dim.dim_value <= 0:
            raise BadInputError(f"{path}: input {inputs[0].name!r} declares dimension {axis} as {dim.dim_value}; "
                                "sizes are positive (a fixed size, or a named dimension for the batch)")
        if dim.HasField("dim_value"):
            shape.append(dim.dim_value)
        elif axis == 0:
            shape.append(1)
        else:
            raise BadInputError(f"{path}: input {inputs[0].name!r} has a dynamic dimension {axis} "
                                f"({dim.dim_param or '?'}); export with a fixed input shape (only batch may vary)")
    elements = 1
    for size in shape:
        elements *= size
    if elements > MAX_INPUT_ELEMENTS:
        raise UnsupportedError(f"{path}: input {inputs[0].name!r} of shape {shape} has {elements:,} elements; sapool "
                               f"compiles models whose input has at most {MAX_INPUT_ELEMENTS:,}")
    return InputSpec(inputs[0].name, tuple(shape), channels_last=_feeds_only_nchw_transposes(model, inputs[0].name))


def _feeds_only_nchw_transposes(model, name: str) -> bool:
    readers = [node for node in model.graph.node if name in node.input]
    if not readers or name in {output.name for output in model.graph.output}:
        return False
    return all(node.op_type == "Transpose" and _perm(node) == NHWC_TO_NCHW for node in readers)


def _perm(node) -> list[int] | None:
    from onnx import helper

    perms = [helper.get_attribute_value(a) for a in node.attribute if a.name == "perm"]
    return list(perms[0]) if perms else None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:200]
