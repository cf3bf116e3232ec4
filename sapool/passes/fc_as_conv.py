"""FULLY_CONNECTED written as RESHAPE → 1×1 CONV_2D → RESHAPE in a .tflite: one rounding answer for every interpreter.

TFLite-Micro (and CMSIS-NN) requantise FULLY_CONNECTED like every other op, with the fixed-point double rounding
(SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT); LiteRT's reference FULLY_CONNECTED alone rounds
once, `round(double(acc) * scale)`. On the shipped SAP model the two interpreters agree on about half the logits
(up to 7 LSB apart). A 1×1 CONV_2D over a [batches, 1, 1, features] view computes the same accumulator from the
same weight bytes (the filter [units, 1, 1, features] is the weight matrix, per-unit scales stay on axis 0), and
every interpreter requantises CONV_2D with the double rounding: LiteRT's reference kernels, TFLite-Micro and
sapool's firmware then give the same int8 outputs, which are TFLite-Micro's outputs for the original model.

The two RESHAPEs are views: sapool's planner gives them no bytes and its TFLite-Micro offline plan gives them
their input's offset, so TFLite-Micro skips the copy. Only int8 FULLY_CONNECTED ops with constant 2-D weights in
the default format are rewritten; the editing goes through LiteRT's schema object API, never byte surgery.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from sapool.ir.graph import Graph, Op, Tensor
from sapool.ir.options import Conv2DOptions, FullyConnectedOptions, ReshapeOptions

CONV_VERSION = 3  # int8 per-channel CONV_2D
RESHAPE_VERSION = 1


def lower_fully_connected(tflite: bytes) -> tuple[bytes, int]:
    """(`tflite` with every int8 FULLY_CONNECTED of every subgraph as RESHAPE → 1×1 CONV_2D → RESHAPE, how many were
    rewritten); the bytes unchanged when there are none."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    builtin = schema.BuiltinOperator
    codes = {_code(entry): index for index, entry in enumerate(model.operatorCodes)}
    rewritten = 0
    for subgraph in model.subgraphs:
        operators = []
        for operator in subgraph.operators or []:
            if _code(model.operatorCodes[operator.opcodeIndex]) == builtin.FULLY_CONNECTED and _lowerable(
                    model, subgraph, operator):
                opcode = {name: _opcode_index(model, codes, code, version) for name, code, version in
                          (("conv", builtin.CONV_2D, CONV_VERSION), ("reshape", builtin.RESHAPE, RESHAPE_VERSION))}
                operators.extend(_as_conv(model, subgraph, operator, opcode))
                rewritten += 1
            else:
                operators.append(operator)
        subgraph.operators = operators
    if not rewritten:
        return tflite, 0
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), rewritten


def _code(entry) -> int:
    return max(entry.builtinCode, entry.deprecatedBuiltinCode)


def _opcode_index(model, codes: dict[int, int], code: int, version: int) -> int:
    from ai_edge_litert import schema_py_generated as schema

    if code not in codes:
        entry = schema.OperatorCodeT()
        entry.builtinCode, entry.deprecatedBuiltinCode, entry.version = code, code, version
        model.operatorCodes.append(entry)
        codes[code] = len(model.operatorCodes) - 1
    return codes[code]


def _lowerable(model, subgraph, operator) -> bool:
    from ai_edge_litert import schema_py_generated as schema

    tensors = subgraph.tensors
    inputs = list(operator.inputs)
    if len(inputs) < 2 or inputs[0] < 0 or inputs[1] < 0 or len(operator.outputs) != 1:
        return False
    source, weights, result = tensors[inputs[0]], tensors[inputs[1]], tensors[operator.outputs[0]]
    int8 = schema.TensorType.INT8
    if source.type != int8 or weights.type != int8 or result.type != int8:
        return False
    if weights.shape is None or len(weights.shape) != 2 or not _has_data(model, weights):
        return False
    options = operator.builtinOptions
    if options is not None and options.weightsFormat != schema.FullyConnectedOptionsWeightsFormat.DEFAULT:
        return False
    if len(inputs) > 2 and inputs[2] >= 0 and not _has_data(model, tensors[inputs[2]]):
        return False
    features = int(weights.shape[1])
    return math.prod(int(size) for size in source.shape) % features == 0


def _has_data(model, tensor) -> bool:
    data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
    return data is not None and len(data) > 0


def _as_conv(model, subgraph, operator, opcode: dict[str, int]) -> list:
    """The three operators standing for `operator`; the new tensors are appended to `subgraph`."""
    from ai_edge_litert import schema_py_generated as schema

    tensors = subgraph.tensors
    source_index, weights_index = operator.inputs[0], operator.inputs[1]
    bias_index = operator.inputs[2] if len(operator.inputs) > 2 else -1
    result_index = operator.outputs[0]
    source, weights, result = tensors[source_index], tensors[weights_index], tensors[result_index]
    units, features = (int(size) for size in weights.shape)
    batches = math.prod(int(size) for size in source.shape) // features

    image_in = _add_tensor(subgraph, _like(source, f"{_name(source)}/as_image", [batches, 1, 1, features]))
    image_out = _add_tensor(subgraph, _like(result, f"{_name(result)}/as_image", [batches, 1, 1, units]))
    filters = _like(weights, f"{_name(weights)}/as_filter", [units, 1, 1, features])
    filters.buffer = weights.buffer  # the same weight bytes, seen as [units, 1, 1, features]
    filter_index = _add_tensor(subgraph, filters)

    conv_options = schema.Conv2DOptionsT()
    conv_options.padding = schema.Padding.VALID
    conv_options.strideH = conv_options.strideW = 1
    conv_options.dilationHFactor = conv_options.dilationWFactor = 1
    fc_options = operator.builtinOptions
    conv_options.fusedActivationFunction = fc_options.fusedActivationFunction if fc_options is not None else 0
    conv = schema.OperatorT()
    conv.opcodeIndex = opcode["conv"]
    if bias_index < 0:
        bias_index = _zero_bias(model, subgraph, source, weights, units)
    conv.inputs = [image_in, filter_index, bias_index]
    conv.outputs = [image_out]
    conv.builtinOptionsType, conv.builtinOptions = schema.BuiltinOptions.Conv2DOptions, conv_options
    return [_reshape(model, subgraph, opcode["reshape"], source_index, image_in),
            conv,
            _reshape(model, subgraph, opcode["reshape"], image_out, result_index)]


def _zero_bias(model, subgraph, source, weights, units: int) -> int:
    """An all-zero int32 bias at scale input_scale · weight_scale[unit]: LiteRT reads CONV_2D's bias operand
    where FULLY_CONNECTED may omit it (measured: it refuses an omitted one when tensors are preserved)."""
    from ai_edge_litert import schema_py_generated as schema

    buffer = schema.BufferT()
    buffer.data = np.zeros(units, "<i4").view(np.uint8)
    model.buffers.append(buffer)
    quantization = schema.QuantizationParametersT()
    weight_scales = np.asarray(weights.quantization.scale, np.float64)
    quantization.scale = (np.asarray(source.quantization.scale, np.float64)[0] * weight_scales).tolist()
    quantization.zeroPoint = [0] * len(quantization.scale)
    bias = schema.TensorT()
    bias.shape, bias.type, bias.buffer = [units], schema.TensorType.INT32, len(model.buffers) - 1
    bias.name, bias.quantization = f"{_name(weights)}/zero_bias".encode(), quantization
    return _add_tensor(subgraph, bias)


def _reshape(model, subgraph, opcode: int, source: int, result: int):
    """RESHAPE `source` → `result`, its new shape given as a constant int32 operand (both interpreters read it)."""
    from ai_edge_litert import schema_py_generated as schema

    shape = [int(size) for size in subgraph.tensors[result].shape]
    buffer = schema.BufferT()
    buffer.data = np.asarray(shape, "<i4").view(np.uint8)
    model.buffers.append(buffer)
    shape_tensor = schema.TensorT()
    shape_tensor.shape, shape_tensor.type = [len(shape)], schema.TensorType.INT32
    shape_tensor.buffer = len(model.buffers) - 1
    shape_tensor.name = f"{_name(subgraph.tensors[result])}/shape".encode()
    options = schema.ReshapeOptionsT()
    options.newShape = shape
    reshape = schema.OperatorT()
    reshape.opcodeIndex = opcode
    reshape.inputs = [source, _add_tensor(subgraph, shape_tensor)]
    reshape.outputs = [result]
    reshape.builtinOptionsType, reshape.builtinOptions = schema.BuiltinOptions.ReshapeOptions, options
    return reshape


def _like(tensor, name: str, shape: list[int]):
    """A new activation tensor with `tensor`'s type and quantisation and the given shape."""
    from ai_edge_litert import schema_py_generated as schema

    copy = schema.TensorT()
    copy.shape, copy.type, copy.name = shape, tensor.type, name.encode()
    copy.quantization = tensor.quantization
    copy.buffer = 0
    return copy


def _add_tensor(subgraph, tensor) -> int:
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _name(tensor) -> str:
    name = tensor.name
    return name.decode() if isinstance(name, bytes) else str(name or "")


def fully_connected_as_conv(graph: Graph) -> Graph:
    """The same rewrite on a Graph, for a user's .tflite that keeps its FULLY_CONNECTED ops: with `--rounding tflm`
    the firmware then runs them as 1×1 CONV_2D and rounds as TFLite-Micro does. `graph` itself when it has none."""
    tensors = list(graph.tensors)
    ops: list[Op] = []

    def add(tensor: Tensor, name: str, shape: tuple[int, ...], data: bytes | None = None) -> int:
        tensors.append(replace(tensor, index=len(tensors), name=name, shape=shape, data=data, is_variable=False))
        return len(tensors) - 1

    for op in graph.ops:
        if not _lowerable_op(graph, op):
            ops.append(op)
            continue
        source, weights, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
        units, features = weights.shape
        batches = source.num_elements // features
        image_in = add(source, f"{source.name}/as_image", (batches, 1, 1, features))
        image_out = add(result, f"{result.name}/as_image", (batches, 1, 1, units))
        filters = add(weights, f"{weights.name}/as_filter", (units, 1, 1, features), weights.data)
        bias = op.inputs[2] if len(op.inputs) > 2 else None
        conv = Conv2DOptions(padding="VALID", activation=getattr(op.options, "activation", "NONE"))
        ops += [Op(0, "RESHAPE", (op.inputs[0],), (image_in,), ReshapeOptions(new_shape=(batches, 1, 1, features)),
                   name=f"{op.name} (as image)", origin=op.origin),
                Op(0, "CONV_2D", (image_in, filters, bias), (image_out,), conv, name=op.name, origin=op.origin),
                Op(0, "RESHAPE", (image_out,), op.outputs, ReshapeOptions(new_shape=result.shape),
                   name=f"{op.name} (back)", origin=op.origin)]
    if len(ops) == len(graph.ops):
        return graph
    return replace(graph, tensors=tensors, ops=[replace(op, index=n) for n, op in enumerate(ops)])


def _lowerable_op(graph: Graph, op: Op) -> bool:
    if op.opcode != "FULLY_CONNECTED" or len(op.inputs) < 2 or None in op.inputs[:2] or len(op.outputs) != 1:
        return False
    source, weights, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if {source.dtype, weights.dtype, result.dtype} != {"int8"} or not weights.is_constant or len(weights.shape) != 2:
        return False
    if isinstance(op.options, FullyConnectedOptions) and op.options.weights_format != "DEFAULT":
        return False  # (an estimate graph traced from torch has no options table: the default format)
    bias = op.inputs[2] if len(op.inputs) > 2 else None
    return (bias is None or graph.tensor(bias).is_constant) and source.num_elements % weights.shape[1] == 0
