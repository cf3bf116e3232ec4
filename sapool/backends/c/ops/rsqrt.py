"""RSQRT → reference/lookup.c: a 256-entry table made with TFLite's own integer arithmetic.

LayerNorm's int8 form (quantize/decompose_transformer.py) ends in rsqrt(variance + ε). TFLite's int8 RSQRT
(elementwise.cc, RsqrtEvalQuantized; TFLite-Micro runs the same code) takes v − input zero point, gets 1/√v as a
fixed-point multiplier from GetInvSqrtQuantizedMultiplierExp (five Newton-Raphson steps in gemmlowp's Q3.28), turns
it into an integer with 20 bits of headroom, and requantises it by 1/(√input_scale · output_scale) (√ and product
in float32, reciprocal in double, QuantizeMultiplier). Every step is replayed here value by value. A value at the
zero point gives 127; below it TFLite refuses to run ("only defined for positive values"), and the table gives 127
as well.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops.lookup import INT8_VALUES, lower_table
from sapool.backends.c.quant import (multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot,
                                     saturating_rounding_doubling_high_mul)
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.ir.graph import Graph, Op

OPCODES = ("RSQRT",)
HEADROOM_SHIFT = 20  # TFLite's kShift
INT32_MAX, INT32_MIN = (1 << 31) - 1, -(1 << 31)
F3_ONE = 1 << 28  # 1.0 in gemmlowp's FixedPoint<int32_t, 3>
F3_THREE_HALVES = (1 << 28) + (1 << 27)
F0_HALF_SQRT_2 = 1518500250  # √2/2 in FixedPoint<int32_t, 0>


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    return lower_table(ctx, graph, op, table(scale(source), zero_point(source), scale(result), zero_point(result)))


def table(input_scale: float, input_zero: int, output_scale: float, output_zero: int) -> np.ndarray:
    root = np.sqrt(np.float32(input_scale))
    multiplier, shift = quantize_multiplier(1.0 / float(root * np.float32(output_scale)))
    values = []
    for v in INT8_VALUES:
        value = int(v) - input_zero
        if value <= 0:
            values.append(127)
            continue
        inverse, inverse_shift = inv_sqrt_multiplier_exp(value)
        data = multiply_by_quantized_multiplier(1, inverse, inverse_shift + HEADROOM_SHIFT)
        out = multiply_by_quantized_multiplier(data, multiplier, shift - HEADROOM_SHIFT) + output_zero
        values.append(min(max(out, -128), 127))
    return np.array(values, dtype=np.int8)


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, kReverseShift = −1): 1/√value as (multiplier, shift)."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    leading_zeros = 32 - value.bit_length()
    pairs = (leading_zeros - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    half_input = rounding_divide_by_pot(value >> 1, 1)  # SaturatingRoundingMultiplyByPOT<-1>
    x = F3_ONE
    for _ in range(5):  # Newton-Raphson on x ← 1.5·x − (v/2)·x³, each product in F3 · F3 → F6, rescaled to F3
        cube = _saturating_shift_left(_mul(_mul(x, x), x), 6)
        x = _saturating_shift_left(_wrap(_mul(F3_THREE_HALVES, x) - _mul(half_input, cube)), 3)
    x = _mul(x, F0_HALF_SQRT_2)
    if shift < 0:
        x = _wrap(x << -shift)
        shift = 0
    return x, -shift


def _mul(a: int, b: int) -> int:
    return saturating_rounding_doubling_high_mul(a, b)


def _wrap(x: int) -> int:
    """int32 two's-complement wrap (gemmlowp's FixedPoint subtraction does not saturate)."""
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def _saturating_shift_left(x: int, exponent: int) -> int:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent
