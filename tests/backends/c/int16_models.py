"""An audio-front-end-style int16 graph interface around an int8 body, as third-party .tflite files have it:
int16 input → QUANTIZE → int8 FULLY_CONNECTED → QUANTIZE → int16 output. Quantisation is drawn from a seed."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray

from tests.ir.tflite_models import make_buffer, make_opcode, make_operator, make_tensor
from tests.verify.int8_models import quantization

FEATURES, UNITS = 16, 8


def int16_interface_model(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    int8, int16, int32 = fb.TensorType.INT8, fb.TensorType.INT16, fb.TensorType.INT32
    audio_scale = float(rng.uniform(1, 8)) / 32768
    body_scale, body_zero = audio_scale * 32768 / float(rng.uniform(60, 130)), int(rng.integers(-20, 20))
    out_scale, out_zero = float(rng.uniform(0.02, 0.08)), int(rng.integers(-30, 30))
    subgraph = fb.SubGraphT()
    subgraph.tensors = [
        make_tensor("audio", [1, FEATURES], int16, 0, quantization(audio_scale, int(rng.integers(-50, 50)))),
        make_tensor("audio_int8", [1, FEATURES], int8, 0, quantization(body_scale, body_zero)),
        make_tensor("fc/weights", [UNITS, FEATURES], int8, 1, quantization([0.01] * UNITS, [0] * UNITS)),
        make_tensor("fc/bias", [UNITS], int32, 2, quantization([0.01 * body_scale] * UNITS, [0] * UNITS)),
        make_tensor("fc/out", [1, UNITS], int8, 0, quantization(out_scale, out_zero)),
        make_tensor("scores", [1, UNITS], int16, 0, quantization(out_scale / float(rng.uniform(50, 250)), 0)),
    ]
    subgraph.operators = [
        make_operator(0, [0], [1]),
        make_operator(1, [1, 2, 3], [4], fb.BuiltinOptions.FullyConnectedOptions, fb.FullyConnectedOptionsT()),
        make_operator(0, [4], [5]),
    ]
    subgraph.inputs, subgraph.outputs = [0], [5]
    model = fb.ModelT()
    model.version = 3
    model.subgraphs = [subgraph]
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.QUANTIZE), make_opcode(fb.BuiltinOperator.FULLY_CONNECTED)]
    model.buffers = [make_buffer(), make_buffer(rng.integers(-127, 128, (UNITS, FEATURES), dtype=np.int8)),
                     make_buffer(rng.integers(-3000, 3000, UNITS, dtype=np.int32))]
    return bytes(convert_object_to_bytearray(model))


def int16_inputs(count: int, seed: int = 0) -> np.ndarray:
    """Uniform int16 samples with the extremes included (saturation of the int8 body input)."""
    values = np.random.default_rng(seed).integers(-32768, 32768, (count, FEATURES), dtype=np.int16)
    values[0, :2] = (-32768, 32767)
    return values
