"""Read a .tflite flatbuffer into a sapool Graph.

Decoding goes through the generated schema classes of the `tflite` package; this module only adds what that
package lacks: validation. The Python flatbuffers runtime has no verifier, so a corrupt file shows up as
struct.error / IndexError / ValueError / TypeError (its offset range check) deep inside an accessor, or as an
absurd vector length that would make a loop run for hours. So the reader checks the header itself, bounds every
table vector by the file size before walking it, checks every tensor/buffer/opcode reference, and turns any
decoding exception into one BadInputError line that names the file.

Only subgraph 0 is read. Control-flow ops (IF, WHILE, CALL_ONCE) run other subgraphs and are not supported by
sapool: their bodies are not part of the returned Graph. BuiltinOptions2 (StableHLO ops) is not decoded.
"""

from __future__ import annotations

import importlib
import os
import re
import struct
from pathlib import Path

from flatbuffers.number_types import Int32Flags, SOffsetTFlags, VOffsetTFlags
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.FullyConnectedOptionsWeightsFormat import FullyConnectedOptionsWeightsFormat
from tflite.MirrorPadMode import MirrorPadMode
from tflite.Model import Model
from tflite.Padding import Padding
from tflite.TensorType import TensorType

from sapool.errors import BadInputError, UnsupportedError
from sapool.input_files import require_regular_file
from sapool.ir.graph import DTYPE_BITS, Graph, Op, Quantization, Tensor
from sapool.ir.options import OpOptions, typed_options
from sapool.ir.validate import validate_graph

FILE_IDENTIFIER = b"TFL3"
ZIP_MAGIC = b"PK\x03\x04"
MAX_MODEL_BYTES = 2 ** 31  # flatbuffers address at most 2 GiB


def _enum_names(enum_class) -> dict[int, str]:
    """Value → name for one of the generated enum classes (plain classes with int attributes)."""
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


TENSOR_TYPE_NAMES = _enum_names(TensorType)
OPERATOR_NAMES = _enum_names(BuiltinOperator)
OPTIONS_TABLE_NAMES = _enum_names(BuiltinOptions)

# TensorType name → the dtype string sapool uses: every type whose size follows from its shape (graph.DTYPE_BITS).
# STRING, RESOURCE and VARIANT tensors have no fixed size, so they cannot be planned.
SUPPORTED_DTYPES = {name: name.lower() for name in TENSOR_TYPE_NAMES.values() if name.lower() in DTYPE_BITS}

# Option fields that hold an enum: decoded to the enum's name ("SAME", "RELU6", "INT32") instead of an int.
OPTION_ENUMS = {
    "padding": _enum_names(Padding),
    "fused_activation_function": _enum_names(ActivationFunctionType),
    "weights_format": _enum_names(FullyConnectedOptionsWeightsFormat),
    "mode": _enum_names(MirrorPadMode),
    "quantized_bias_type": TENSOR_TYPE_NAMES,
    "in_data_type": TENSOR_TYPE_NAMES,
    "out_data_type": TENSOR_TYPE_NAMES,
    "output_type": TENSOR_TYPE_NAMES,
    "idx_out_type": TENSOR_TYPE_NAMES,
}

# What a broken flatbuffer raises inside the generated accessors (TypeError: flatbuffers' offset range check).
DECODE_ERRORS = (struct.error, IndexError, ValueError, TypeError, OverflowError)


class _Corrupt(Exception):
    """Internal: a consistency check failed; read_* adds the file name and re-raises as BadInputError."""


def read_tflite(path: str | Path) -> Graph:
    """Read subgraph 0 of the .tflite file at `path`.

    The 8-byte header is checked before the rest is read, and at most MAX_MODEL_BYTES are read: /dev/zero, a
    multi-GB file or a PyTorch checkpoint given by mistake costs one small read, not the machine's RAM.
    """
    path = Path(path)
    require_regular_file(path, "model")
    try:
        with path.open("rb") as stream:
            header = stream.read(8)
            try:
                _check_header(header)
            except _Corrupt as exc:
                raise BadInputError(f"{path}: not a valid TFLite model: {exc}") from None
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_MODEL_BYTES:
                raise BadInputError(f"{path}: {size:,} bytes; a TFLite model sapool reads is at most "
                                    f"{MAX_MODEL_BYTES:,} bytes (2 GiB, the flatbuffer limit)")
            data = header + stream.read(MAX_MODEL_BYTES + 1 - len(header))
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInputError(f"{path}: is a directory, not a .tflite file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_MODEL_BYTES:  # a device or pipe has no size to check up front
        raise BadInputError(f"{path}: more than {MAX_MODEL_BYTES:,} bytes; not a TFLite model sapool can read")
    return _decode(data, source=str(path), name=path.stem)


def read_tflite_bytes(data: bytes, name: str) -> Graph:
    """Read subgraph 0 of an in-memory .tflite model; `name` labels the Graph and error messages."""
    return _decode(bytes(data), source=name, name=name)


def _decode(data: bytes, source: str, name: str) -> Graph:
    try:
        model = _open_model(data)
        graph = _GraphReader(model, data).graph(name)
    except _Corrupt as exc:
        raise BadInputError(f"{source}: not a valid TFLite model: {exc}") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{source}: not a valid TFLite model: a name is not UTF-8 (corrupt file?)") from None
    except DECODE_ERRORS as exc:
        raise BadInputError(f"{source}: corrupt or truncated TFLite flatbuffer ({type(exc).__name__}: {exc})") from None
    except UnsupportedError as exc:
        raise UnsupportedError(f"{source}: {exc}") from None
    try:
        validate_graph(graph)
    except BadInputError as exc:
        raise BadInputError(f"{source}: {exc}") from None
    return graph


def _check_header(header: bytes) -> None:
    """Raise _Corrupt unless `header` (the first 8 bytes) starts a TFLite flatbuffer; name what it is instead."""
    if not header:
        raise _Corrupt("the file is empty")
    if header.startswith(ZIP_MAGIC):
        raise _Corrupt("this is a zip archive, as PyTorch checkpoints (.pt) are: `sapool compile` converts a "
                       "checkpoint to an int8 .tflite, and `sapool eval` / `sapool prune` take it directly")
    if len(header) < 8:
        raise _Corrupt(f"only {len(header)} bytes, too short for a flatbuffer header")
    if header[4:8] != FILE_IDENTIFIER:
        raise _Corrupt(f"file identifier is {header[4:8]!r}, expected {FILE_IDENTIFIER!r} (an ONNX or PyTorch model "
                       "goes through `sapool compile` first)")


def _open_model(data: bytes) -> Model:
    _check_header(data[:8])
    root = struct.unpack_from("<I", data, 0)[0]
    if not 8 <= root <= len(data) - 4:
        raise _Corrupt(f"root table offset {root} is outside the file ({len(data)} bytes; truncated?)")
    return _within_file(Model.GetRootAs(data, 0), "model table")


def _within_file(table, what: str):
    """Return `table` after checking its inline fields end inside the file (the vtable records their size).

    The generated getters only fail when they touch a missing byte; this catches a file cut inside a table
    whose cut-off fields the reader happens not to use.
    """
    tab = table._tab
    vtable = tab.Pos - tab.Get(SOffsetTFlags, tab.Pos)
    inline_size = tab.Get(VOffsetTFlags, vtable + 2)
    if tab.Pos + inline_size > len(tab.Bytes):
        raise _Corrupt(f"{what} extends past the end of the file (truncated?)")
    return table


class _GraphReader:
    """Walks one Model's subgraph 0; every method raises _Corrupt or a DECODE_ERRORS exception on bad data."""

    def __init__(self, model: Model, data: bytes):
        self.model = model
        self.data = data

    def graph(self, name: str) -> Graph:
        if self._count(self.model.SubgraphsLength(), "subgraphs") == 0:
            raise _Corrupt("the model has no subgraphs")
        subgraph = _within_file(self.model.Subgraphs(0), "subgraph 0")
        buffers = self._buffers()
        opcodes = self._opcode_names()
        n_tensors = self._count(subgraph.TensorsLength(), "tensors")
        tensors = [self._tensor(subgraph, i, buffers) for i in range(n_tensors)]
        n_ops = self._count(subgraph.OperatorsLength(), "operators")
        ops = [self._op(subgraph, i, opcodes, n_tensors) for i in range(n_ops)]
        inputs = self._tensor_refs(subgraph.InputsAsNumpy(), n_tensors, "subgraph input", allow_omitted=False)
        outputs = self._tensor_refs(subgraph.OutputsAsNumpy(), n_tensors, "subgraph output", allow_omitted=False)
        return Graph(name=name, tensors=tensors, ops=ops, inputs=inputs, outputs=outputs)

    def _count(self, length: int, what: str) -> int:
        """A vector of tables holds one 4-byte offset per entry, so a count the file cannot hold is corruption."""
        if length * 4 > len(self.data):
            raise _Corrupt(f"{length} {what} cannot fit in {len(self.data)} bytes")
        return length

    def _buffers(self) -> list[bytes | None]:
        """Contents of every model buffer; None for empty ones (activations, and buffer 0 by convention)."""
        contents = []
        for i in range(self._count(self.model.BuffersLength(), "buffers")):
            buffer = _within_file(self.model.Buffers(i), f"buffer {i}")
            offset, size = buffer.Offset(), buffer.Size()
            if offset > 1:  # >2 GB layout: data lives after the flatbuffer, offset counted from the file start
                if offset + size > len(self.data):
                    raise _Corrupt(f"buffer {i} ({size} bytes at {offset}) extends past the end of the file")
                contents.append(self.data[offset:offset + size] or None)
            elif buffer.DataIsNone():
                contents.append(None)
            else:
                contents.append(buffer.DataAsNumpy().tobytes() or None)
        return contents

    def _opcode_names(self) -> list[str]:
        names = []
        for i in range(self._count(self.model.OperatorCodesLength(), "operator codes")):
            code = _within_file(self.model.OperatorCodes(i), f"operator code {i}")
            builtin = max(code.DeprecatedBuiltinCode(), _stored_builtin_code(code))
            if builtin == BuiltinOperator.CUSTOM:
                names.append(f"CUSTOM:{(code.CustomCode() or b'').decode()}")
            else:
                names.append(OPERATOR_NAMES.get(builtin, f"UNKNOWN_BUILTIN_{builtin}"))
        return names

    def _tensor(self, subgraph, index: int, buffers: list[bytes | None]) -> Tensor:
        tensor = _within_file(subgraph.Tensors(index), f"tensor {index}")
        name = (tensor.Name() or b"").decode()
        type_name = TENSOR_TYPE_NAMES.get(tensor.Type(), f"type {tensor.Type()}")
        dtype = SUPPORTED_DTYPES.get(type_name)
        if dtype is None:
            raise UnsupportedError(f"tensor {index} '{name}' has dtype {type_name}, whose size does not follow from "
                                   "its shape; sapool plans fixed-size tensors only")
        if tensor.Sparsity() is not None:
            raise UnsupportedError(f"tensor {index} '{name}' is stored sparse, which sapool does not support")
        shape = _ints(tensor.ShapeAsNumpy())
        if any(dim < 0 for dim in shape):
            raise _Corrupt(f"tensor {index} '{name}' has a negative dimension in shape {shape}")
        buffer_index = tensor.Buffer()
        if buffer_index >= len(buffers):
            raise _Corrupt(f"tensor {index} '{name}' refers to buffer {buffer_index}; the model has {len(buffers)}")
        result = Tensor(index=index, name=name, shape=shape, dtype=dtype, quantization=_quantization(tensor),
                        data=buffers[buffer_index], is_variable=bool(tensor.IsVariable()))
        if result.data is not None and len(result.data) != result.nbytes:
            raise _Corrupt(f"tensor {index} '{name}' {dtype}{list(shape)} needs {result.nbytes} bytes "
                           f"but its buffer holds {len(result.data)}")
        return result

    def _op(self, subgraph, index: int, opcodes: list[str], n_tensors: int) -> Op:
        operator = _within_file(subgraph.Operators(index), f"operator {index}")
        opcode_index = operator.OpcodeIndex()
        if opcode_index >= len(opcodes):
            raise _Corrupt(f"operator {index} uses opcode {opcode_index}; the model has {len(opcodes)}")
        outputs = self._tensor_refs(operator.OutputsAsNumpy(), n_tensors, f"operator {index} output",
                                    allow_omitted=False)
        return Op(
            index=index,
            opcode=opcodes[opcode_index],
            inputs=self._tensor_refs(operator.InputsAsNumpy(), n_tensors, f"operator {index} input"),
            outputs=outputs,
            options=_builtin_options(operator),
            name=self._op_name(subgraph, outputs),
            origin=f"tflite operator {index}",
        )

    @staticmethod
    def _op_name(subgraph, outputs: tuple[int, ...]) -> str:
        """TFLite ops have no names; converters name the first output after the layer, so that names the op."""
        return (subgraph.Tensors(outputs[0]).Name() or b"").decode() if outputs else ""

    @staticmethod
    def _tensor_refs(indices, n_tensors: int, what: str, allow_omitted: bool = True) -> tuple[int | None, ...]:
        """Tensor indices, checked; TFLite's -1 (an omitted optional input) becomes None."""
        refs = _ints(indices)
        lowest = -1 if allow_omitted else 0
        for ref in refs:
            if not lowest <= ref < n_tensors:
                raise _Corrupt(f"{what} refers to tensor {ref}; the subgraph has {n_tensors}")
        return tuple(None if ref == -1 else ref for ref in refs)


def _stored_builtin_code(code) -> int:
    """OperatorCode.builtin_code as stored (schema default 0).

    The `tflite` package's BuiltinCode() returns deprecated_builtin_code whenever builtin_code is below 127, so
    a writer that fills only the new field (deprecated left 0) would read as ADD. TFLite itself takes
    max(deprecated_builtin_code, builtin_code) of the stored values; this reads the field (vtable slot 10) directly.
    """
    slot = code._tab.Offset(10)
    return code._tab.Get(Int32Flags, code._tab.Pos + slot) if slot else 0


def _ints(vector) -> tuple[int, ...]:
    """A numeric vector from an *AsNumpy accessor as Python ints; the accessors return 0 for an absent vector."""
    if isinstance(vector, int):
        return ()
    return tuple(int(v) for v in vector)


def _quantization(tensor) -> Quantization | None:
    params = tensor.Quantization()
    if params is None or _within_file(params, "quantization").ScaleLength() == 0:
        return None
    scale = tuple(float(s) for s in params.ScaleAsNumpy())
    zero_point = _ints(params.ZeroPointAsNumpy()) or (0,) * len(scale)
    if len(zero_point) != len(scale):
        raise _Corrupt(f"tensor '{(tensor.Name() or b'').decode()}' has {len(scale)} scales "
                       f"but {len(zero_point)} zero points")
    return Quantization(scale=scale, zero_point=zero_point, axis=params.QuantizedDimension())


def _builtin_options(operator) -> OpOptions:
    """The op's BuiltinOptions table, read through the generated class's getters, in sapool's typed form."""
    table_name = OPTIONS_TABLE_NAMES.get(operator.BuiltinOptionsType(), "NONE")
    table = operator.BuiltinOptions()
    if table_name == "NONE" or table is None:
        return typed_options("NONE", {})
    options_class = _options_class(table_name)
    options = options_class()
    options.Init(table.Bytes, table.Pos)
    _within_file(options, table_name)
    raw = {key: _option_value(options, getter, key) for key, getter in _option_fields(options_class)}
    return typed_options(table_name, raw)


def _options_class(table_name: str):
    """The generated class for an options table: module tflite.<Name> defines class <Name>."""
    return getattr(importlib.import_module(f"tflite.{table_name}"), table_name)


_FIELD_CACHE: dict[type, list[tuple[str, str]]] = {}
_NOT_FIELDS = re.compile(r"^(Init|GetRootAs.*|.*BufferHasIdentifier|.*AsNumpy|.*Length|.*IsNone)$")


def _option_fields(options_class) -> list[tuple[str, str]]:
    """(snake_case key, getter name) for each field: scalar getters take no argument, vector getters take `j`."""
    if options_class not in _FIELD_CACHE:
        fields = []
        for attr, member in vars(options_class).items():
            if attr.startswith("_") or _NOT_FIELDS.match(attr) or not callable(member):
                continue
            takes_index = member.__code__.co_argcount == 2
            fields.append((_snake_case(attr), f"{attr}AsNumpy" if takes_index else attr))
        _FIELD_CACHE[options_class] = fields
    return _FIELD_CACHE[options_class]


def _option_value(options, getter: str, key: str):
    value = getattr(options, getter)()
    if getter.endswith("AsNumpy"):
        return list(_ints(value)) if isinstance(value, int) or value.dtype.kind in "iub" else [float(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if key in OPTION_ENUMS:
        return OPTION_ENUMS[key].get(value, value)
    return value


def _snake_case(camel: str) -> str:
    """`DilationWFactor` → `dilation_w_factor`, `StrideH` → `stride_h`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
