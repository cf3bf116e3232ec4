"""gemmlowp's fixed-point exp, evaluated at compile time: TFLite's int8 SOFTMAX reference kernel runs it.

Numbers are Python ints holding int32 raw fixed-point values, and every step is the int32 operation gemmlowp
performs (SaturatingRoundingDoublingHighMul and RoundingDivideByPOT from quant.py, saturating left shifts, plain
adds that never overflow in these ranges), so the results are the bits TFLite computes at run time.
"""

from __future__ import annotations

from sapool.backends.c.quant import rounding_divide_by_pot, saturating_rounding_doubling_high_mul

INT32_MAX, INT32_MIN = (1 << 31) - 1, -(1 << 31)

EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8) in Q0.31
ONE_THIRD = 715827883  # 1/3 in Q0.31
EXP_OF_MINUS_POWERS_OF_TWO = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)  # k = -2..4


def saturating_shift_left(x: int, exponent: int) -> int:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    return INT32_MAX if x > threshold else INT32_MIN if x < -threshold else x << exponent


def exp_on_negative_values(a: int) -> int:
    """exp(a) for a <= 0 in Q5.26, as a Q0.31 value: exp of (a mod 1/4) − 1/4 by a Taylor polynomial around −1/8,
    times exp(−2^k) for every bit k of the remainder (gemmlowp::exp_on_negative_values with 5 integer bits)."""
    mul = saturating_rounding_doubling_high_mul
    quarter = 1 << 24
    a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter
    x = saturating_shift_left(a_mod_quarter_minus_quarter, 5) + (1 << 28)
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    higher_terms = rounding_divide_by_pot(mul(rounding_divide_by_pot(x4, 2) + x3, ONE_THIRD) + x2, 1)
    result = EXP_MINUS_ONE_EIGHTH + mul(EXP_MINUS_ONE_EIGHTH, x + higher_terms)
    remainder = a_mod_quarter_minus_quarter - a
    for k, multiplier in enumerate(EXP_OF_MINUS_POWERS_OF_TWO):
        if remainder & (1 << (24 + k)):
            result = mul(result, multiplier)
    return INT32_MAX if a == 0 else result
