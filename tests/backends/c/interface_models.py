"""Small int8 models with the interfaces third-party converters write: a float32 input quantised by QUANTIZE and
float32 outputs made by DEQUANTIZE (the TFLite converter's default), several inputs and several outputs.

Built with the same flatbuffer tooling as single_op_models, so TFLite's reference kernels run them as they are.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from tests.backends.c.model_draw import Draw, accumulator_spread, options_table, weight_scales
from tests.ir.tflite_models import make_quantization, pack

FLOAT = fb.TensorType.FLOAT32


def float_interface_cnn(seed: int = 0) -> bytes:
    """float32 [1,8,8,3] → QUANTIZE → CONV_2D 3×3 (RELU) → MAX_POOL 2×2 → DEQUANTIZE → float32 [1,4,4,5]."""
    draw = Draw(seed)
    in_q = (0.02, -5)
    image = draw.input([1, 8, 8, 3], None, FLOAT)
    quantized = draw.builder.tensor("quantized", [1, 8, 8, 3], quantization=_quant(in_q))
    draw.builder.op(fb.BuiltinOperator.QUANTIZE, [image], [quantized])
    conv = _conv(draw, quantized, in_q, [1, 8, 8, 3], 5)
    pooled = draw.builder.tensor("pooled", [1, 4, 4, 5], quantization=_quant(_CONV_OUT))
    draw.builder.op(fb.BuiltinOperator.MAX_POOL_2D, [conv], [pooled],
                    options_table(fb.Pool2DOptionsT, padding=fb.Padding.VALID, strideH=2, strideW=2,
                                  filterHeight=2, filterWidth=2))
    result = draw.builder.tensor("result", [1, 4, 4, 5], FLOAT)
    draw.builder.op(fb.BuiltinOperator.DEQUANTIZE, [pooled], [result])
    return pack(draw.builder.build(draw.inputs, [result]))


def two_in_three_out(seed: int = 0) -> bytes:
    """Inputs: float32 x [1,6,6,4] and int8 y [1,6,6,4]. Outputs, in this order: int8 ADD(QUANTIZE(x), y);
    float32 DEQUANTIZE(LOGISTIC(that sum)); int8 AVERAGE_POOL(y) 3×3 (a branch of the second input only)."""
    draw = Draw(seed)
    x_q, y_q, sum_q = (0.03, 4), (0.05, -10), (0.06, 3)
    x = draw.input([1, 6, 6, 4], None, FLOAT)
    y = draw.input([1, 6, 6, 4], y_q)
    quantized = draw.builder.tensor("x_int8", [1, 6, 6, 4], quantization=_quant(x_q))
    draw.builder.op(fb.BuiltinOperator.QUANTIZE, [x], [quantized])
    total = draw.builder.tensor("sum", [1, 6, 6, 4], quantization=_quant(sum_q))
    draw.builder.op(fb.BuiltinOperator.ADD, [quantized, y], [total], options_table(fb.AddOptionsT))
    gate = draw.builder.tensor("gate", [1, 6, 6, 4], quantization=_quant((1 / 256, -128)))
    draw.builder.op(fb.BuiltinOperator.LOGISTIC, [total], [gate])
    gate_float = draw.builder.tensor("gate_float", [1, 6, 6, 4], FLOAT)
    draw.builder.op(fb.BuiltinOperator.DEQUANTIZE, [gate], [gate_float])
    pooled = draw.builder.tensor("y_pooled", [1, 2, 2, 4], quantization=_quant(y_q))
    draw.builder.op(fb.BuiltinOperator.AVERAGE_POOL_2D, [y], [pooled],
                    options_table(fb.Pool2DOptionsT, padding=fb.Padding.VALID, strideH=3, strideW=3,
                                  filterHeight=3, filterWidth=3))
    return pack(draw.builder.build(draw.inputs, [total, gate_float, pooled]))


def random_model_inputs(interpreter_details, seed: int) -> list[np.ndarray]:
    """One array per input detail (from Interpreter.get_input_details()): int8 over the whole range, float32
    standard normal × 2 (beyond the int8 range of the QUANTIZE scales above, so saturation is exercised)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for detail in interpreter_details:
        if detail["dtype"] == np.int8:
            arrays.append(rng.integers(-128, 128, detail["shape"], dtype=np.int8))
        else:
            arrays.append((rng.standard_normal(detail["shape"]) * 2).astype(np.float32))
    return arrays


_CONV_OUT = (0.04, -128)  # RELU output range starts at the zero point


def _conv(draw: Draw, source: int, in_q, shape, out_c: int) -> int:
    in_c = shape[-1]
    spread = accumulator_spread(9 * in_c, in_q[1], 0)
    scales = weight_scales(draw, out_c, in_q[0], _CONV_OUT[0], spread)
    weights = draw.weights("filter", [out_c, 3, 3, in_c], scales, axis=0)
    bias = draw.bias(in_q[0], scales, spread)
    result = draw.builder.tensor("conv", [*shape[:3], out_c], quantization=_quant(_CONV_OUT))
    draw.builder.op(fb.BuiltinOperator.CONV_2D, [source, weights, bias], [result],
                    options_table(fb.Conv2DOptionsT, padding=fb.Padding.SAME, strideH=1, strideW=1,
                                  dilationHFactor=1, dilationWFactor=1,
                                  fusedActivationFunction=fb.ActivationFunctionType.RELU))
    return result


def _quant(q: tuple[float, int]):
    return make_quantization(*q)
