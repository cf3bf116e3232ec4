"""A tiny int8 model built with LiteRT's schema object API, for fast interpreter and export tests.

input int8 [1,16,16,2] → CONV_2D 1×1 (3 channels, RELU) → RESHAPE [1,768] → FULLY_CONNECTED (5) → output [1,5].
The RESHAPE gives the export an aliasable view; the FULLY_CONNECTED is the op where TFLM may round differently.
"""

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray

from tests.ir.tflite_models import make_buffer, make_opcode, make_operator, make_tensor


def quantization(scale, zero_point, axis=0):
    params = fb.QuantizationParametersT()
    params.scale, params.zeroPoint, params.quantizedDimension = list(np.atleast_1d(scale)), list(
        np.atleast_1d(zero_point)), axis
    return params


def tiny_int8_model() -> fb.ModelT:
    rng = np.random.default_rng(1)
    conv = fb.Conv2DOptionsT()
    conv.padding, conv.strideW, conv.strideH = fb.Padding.VALID, 1, 1
    conv.dilationWFactor = conv.dilationHFactor = 1
    conv.fusedActivationFunction = fb.ActivationFunctionType.RELU
    reshape = fb.ReshapeOptionsT()
    reshape.newShape = [1, 768]
    int8, int32 = fb.TensorType.INT8, fb.TensorType.INT32
    subgraph = fb.SubGraphT()
    subgraph.tensors = [
        make_tensor("input", [1, 16, 16, 2], int8, 0, quantization(0.05, -3)),
        make_tensor("conv/filter", [3, 1, 1, 2], int8, 1, quantization([0.02, 0.03, 0.01], [0, 0, 0])),
        make_tensor("conv/bias", [3], int32, 2, quantization([0.001, 0.0015, 0.0005], [0, 0, 0])),
        make_tensor("conv/out", [1, 16, 16, 3], int8, 0, quantization(0.04, -128)),
        make_tensor("reshape/shape", [2], int32, 3),
        make_tensor("flat", [1, 768], int8, 0, quantization(0.04, -128)),
        make_tensor("fc/weights", [5, 768], int8, 4, quantization(0.01, 0)),
        make_tensor("fc/bias", [5], int32, 5, quantization(0.0004, 0)),
        make_tensor("output", [1, 5], int8, 0, quantization(2.0, 2)),
    ]
    subgraph.operators = [
        make_operator(0, [0, 1, 2], [3], fb.BuiltinOptions.Conv2DOptions, conv),
        make_operator(1, [3, 4], [5], fb.BuiltinOptions.ReshapeOptions, reshape),
        make_operator(2, [5, 6, 7], [8], fb.BuiltinOptions.FullyConnectedOptions, fb.FullyConnectedOptionsT()),
    ]
    subgraph.inputs, subgraph.outputs = [0], [8]
    model = fb.ModelT()
    model.version = 3
    model.subgraphs = [subgraph]
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.CONV_2D), make_opcode(fb.BuiltinOperator.RESHAPE),
                           make_opcode(fb.BuiltinOperator.FULLY_CONNECTED)]
    model.buffers = [
        make_buffer(),
        make_buffer(rng.integers(-127, 128, (3, 1, 1, 2), dtype=np.int8)),
        make_buffer(rng.integers(-500, 500, 3, dtype=np.int32)),
        make_buffer(np.array([1, 768], np.int32)),
        make_buffer(rng.integers(-127, 128, (5, 768), dtype=np.int8)),
        make_buffer(rng.integers(-2000, 2000, 5, dtype=np.int32)),
    ]
    return model


def tiny_int8_bytes() -> bytes:
    return bytes(convert_object_to_bytearray(tiny_int8_model()))


def with_metadata(model: fb.ModelT, name: str, buffer: int) -> bytes:
    """`model` with one more metadata entry (name → buffer index), serialised."""
    entry = fb.MetadataT()
    entry.name, entry.buffer = name, buffer
    model.metadata = [*(model.metadata or []), entry]
    return bytes(convert_object_to_bytearray(model))


def random_inputs(shape, count, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(count, *shape), dtype=np.int8)
