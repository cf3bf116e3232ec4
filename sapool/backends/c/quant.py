"""Fixed-point quantisation math, computed at compile time exactly as TFLite's Prepare functions do.

The C kernels (sapool/kernels/include/sapool_quant.h) apply these multipliers at run time with TFLite's
rounding: double rounding (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT) for CONV_2D,
DEPTHWISE_CONV_2D and ADD, and a single half-up rounding for FULLY_CONNECTED, which is what ai-edge-litert's
reference resolver does (measured: the other choice differs by 1 LSB on kws's first CONV_2D and on ad01's second
FULLY_CONNECTED). TFLite-Micro rounds FULLY_CONNECTED twice; sapool's own export has none (passes/fc_as_conv.py).
The functions below are the Python twins of the C ones, for tests. Bit-exactness starts with
the same frexp/round-half-away-from-zero decomposition of the same double value.
"""

from __future__ import annotations

import math

import numpy as np


def round_half_away(value: float) -> int:
    """std::round: halves round away from zero (Python's round() rounds halves to even)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: `real ≈ multiplier · 2^(shift − 31)` with multiplier in [2^30, 2^31).

    Returns (multiplier, shift); shift > 0 is a left shift. Zero maps to (0, 0), and multipliers too small to
    represent (shift < −31) flush to (0, 0), as TFLite does.
    """
    if real_multiplier == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real_multiplier)
    fixed = round_half_away(fraction * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


def float32_product(a: float, b: float) -> float:
    """a·b evaluated in float32 then widened to double, as C++ does for `float * float`."""
    return float(np.float32(a) * np.float32(b))


def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values: (2·a·b) / 2^32 rounded to nearest."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    product = a * b
    total = product + ((1 << 30) if product >= 0 else 1 - (1 << 30))
    quotient = abs(total) >> 31  # C integer division truncates toward zero
    return quotient if total >= 0 else -quotient


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite's reference MultiplyByQuantizedMultiplier (double rounding); twin of sapool_requantize."""
    left, right = max(shift, 0), max(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x * (1 << left), multiplier), right)


def multiply_by_quantized_multiplier_single(x: int, multiplier: int, shift: int) -> int:
    """One rounding, half up, as TFLite's FULLY_CONNECTED requantises; twin of sapool_requantize_single."""
    total_shift = 31 - shift
    return (x * multiplier + (1 << (total_shift - 1))) >> total_shift


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized for int8: the fused activation as an int8 clamp."""
    low, high = -128, 127

    def quantize(real: float) -> int:  # TFLite divides in float32: f / scale with both floats
        return zero_point + round_half_away(float(np.float32(real) / np.float32(scale)))

    if activation == "RELU":
        return max(low, quantize(0.0)), high
    if activation == "RELU6":
        return max(low, quantize(0.0)), min(high, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(low, quantize(-1.0)), min(high, quantize(1.0))
    return low, high
