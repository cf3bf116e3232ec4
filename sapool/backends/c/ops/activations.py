"""LEAKY_RELU, HARD_SWISH, GELU → reference/lookup.c: each a function of one int8 value, so a 256-entry table
computed here with TFLite's own Prepare and Eval arithmetic (its reference kernels, value by value).

- LEAKY_RELU (QuantizeLeakyRelu): v − input zero point, times the identity multiplier (input/output scale) when
  ≥ 0, else the alpha multiplier (input scale · alpha / output scale), each a float32 expression in Prepare put
  through QuantizeMultiplier, MultiplyByQuantizedMultiplier (double rounding), + output zero point, clamped.
- HARD_SWISH (reference_ops::HardSwish<int8_t>): TFLite's 16-bit fixed-point evaluation: the input on a "hi-res"
  scale (·2^7), its value on the output scale and a "relu-ish" factor in [0, 1] (x/3 rescaled, saturating), both
  with 16-bit multipliers downscaled from QuantizeMultiplier, multiplied with truncating doubling, then a rounding
  shift to the output.
- GELU: LUTPopulate<int8_t> of 0.5·x·(1 + erf(x/√2)) (erf in double, as `x * M_SQRT1_2` is a double expression)
  or, with `approximate`, 0.5·x·(1 + tanhf(√(2/π)·(x + 0.044715·x³))) in float32.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops.lookup import INT8_VALUES, float_table, lower_table
from sapool.backends.c.quant import multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("LEAKY_RELU", "HARD_SWISH", "GELU")
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    if op.opcode == "HARD_SWISH" and _hard_swish_params(graph, op)[1] > 0:
        raise UnsupportedError("output scale below input scale / 128: TFLite's int8 HARD_SWISH refuses it")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    return lower_table(ctx, graph, op, table(graph, op))


def table(graph: Graph, op: Op) -> np.ndarray:
    """The op's int8 result for every input value v = −128..127."""
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    quant = (scale(source), zero_point(source), scale(result), zero_point(result))
    if op.opcode == "LEAKY_RELU":
        return _leaky_relu_table(*quant, alpha=float(op.options.get("alpha", 0.0)))
    if op.opcode == "GELU":
        return float_table(_gelu_tanh if op.options.get("approximate", False) else _gelu)(*quant)
    return _hard_swish_table(graph, op)


def _leaky_relu_table(input_scale, input_zero, output_scale, output_zero, *, alpha: float) -> np.ndarray:
    f32 = np.float32
    identity = quantize_multiplier(float(f32(input_scale) / f32(output_scale)))
    negative = quantize_multiplier(float(f32(f32(input_scale) * f32(alpha)) / f32(output_scale)))
    out = []
    for v in INT8_VALUES:
        x = int(v) - input_zero
        multiplier, shift = identity if x >= 0 else negative
        out.append(min(127, max(-128, output_zero + multiply_by_quantized_multiplier(x, multiplier, shift))))
    return np.array(out)


def _gelu(x: np.float32) -> np.float32:
    return np.float32(0.5 * float(x) * (1.0 + math.erf(float(x) * math.sqrt(0.5))))


def _gelu_tanh(x: np.float32) -> np.float32:
    f32 = np.float32
    inner = f32(f32(math.sqrt(2.0 / math.pi)) * f32(x + f32(0.044715) * x * x * x))
    return f32(f32(0.5) * x * f32(f32(1.0) + f32(math.tanh(float(inner)))))


def _hard_swish_params(graph: Graph, op: Op):
    """(output multiplier int16, output exponent, relu-ish multiplier int16, relu-ish exponent) as Prepare."""
    f32 = np.float32
    hires_scale = f32(f32(1.0 / 128.0) * f32(scale(graph.tensor(op.inputs[0]))))
    output_multiplier, output_exponent = quantize_multiplier(float(hires_scale / f32(scale(graph.tensor(op.outputs[0])))))
    reluish_multiplier, reluish_exponent = quantize_multiplier(float(hires_scale / f32(3.0 / 32768.0)))
    return _to_int16(output_multiplier), output_exponent, _to_int16(reluish_multiplier), reluish_exponent


def _hard_swish_table(graph: Graph, op: Op) -> np.ndarray:
    output_multiplier, output_exponent, reluish_multiplier, reluish_exponent = _hard_swish_params(graph, op)
    input_zero, output_zero = zero_point(graph.tensor(op.inputs[0])), zero_point(graph.tensor(op.outputs[0]))
    out = []
    for v in INT8_VALUES:
        hires = (int(v) - input_zero) * (1 << 7)
        preshift = _rounding_doubling_high_mul(hires, output_multiplier)
        reluish = hires
        if reluish_exponent > 0:
            reluish = _saturating_left_shift(reluish, reluish_exponent - 1)
        reluish = _rounding_doubling_high_mul(reluish, reluish_multiplier)
        if reluish_exponent > 0:
            reluish = _saturating_left_shift(reluish, 1)
        if reluish_exponent < 0:
            reluish = rounding_divide_by_pot(reluish, -reluish_exponent)
        reluish = (reluish + (1 << 15)) >> 1
        value = rounding_divide_by_pot(_saturating_doubling_high_mul(reluish, preshift), -output_exponent)
        out.append(min(127, max(-128, value + output_zero)))
    return np.array(out)


def _to_int16(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round the Q31 multiplier to Q15, saturating at the top."""
    return INT16_MAX if multiplier >= (1 << 31) - 1 - (1 << 15) else (multiplier + (1 << 15)) >> 16


def _saturating_left_shift(value: int, amount: int) -> int:
    return min(INT16_MAX, max(INT16_MIN, value * (1 << amount)))


def _rounding_doubling_high_mul(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul for int16: (a·b + nudge) / 2^15, truncated toward zero."""
    if a == b == INT16_MIN:
        return INT16_MAX
    product = a * b
    return int((product + ((1 << 14) if product >= 0 else 1 - (1 << 14))) / (1 << 15))


def _saturating_doubling_high_mul(a: int, b: int) -> int:
    """TFLite's SaturatingDoublingHighMul for int16: a·b / 2^15 truncated toward zero (no rounding nudge)."""
    if a == b == INT16_MIN:
        return INT16_MAX
    return int(a * b / (1 << 15))
