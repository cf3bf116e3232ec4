/* sapool_quant.h: TFLite's fixed-point requantisation, bit for bit.
 *
 * Every int8 kernel ends the same way: an int32 accumulator is scaled by a real multiplier M, which sapool
 * decomposes at compile time as multiplier * 2^(shift - 31) (TFLite's QuantizeMultiplier). TFLite rounds that
 * product in one of two ways, and which one depends on the op (measured against ai-edge-litert's reference
 * resolver, see docs/adding_an_op.md):
 * - sapool_requantize: double rounding, TFLite's reference MultiplyByQuantizedMultiplier
 *   (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT); every op but FULLY_CONNECTED;
 * - sapool_requantize_single: one rounding, half up, as LiteRT's reference FULLY_CONNECTED computes it
 *   (TFLite-Micro and CMSIS-NN round FULLY_CONNECTED twice, like every other op).
 * Right shifts of negative values are arithmetic (implementation-defined in C99; GCC and Clang do this).
 */
#ifndef SAPOOL_QUANT_H
#define SAPOOL_QUANT_H

#include <stdint.h>

/* gemmlowp's SaturatingRoundingDoublingHighMul for b >= 0 (requantisation multipliers are): (2ab + 2^31) / 2^32
 * with the nudged product truncated toward zero. For a negative product p the nudge is 1 - 2^30, and truncating
 * (p + 1 - 2^30) / 2^31 equals flooring (p + 2^30) / 2^31, the positive case's formula, so one arithmetic shift
 * does both. The saturating case (a = b = INT32_MIN) needs b < 0 and cannot occur. */
static inline int32_t sapool_doubling_high_mul(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
static inline int32_t sapool_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31) with TFLite's double rounding; shift > 0 shifts left first. */
static inline int32_t sapool_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    return sapool_divide_by_pot(sapool_doubling_high_mul(x * ((int32_t)1 << left), multiplier), right);
}

/* x * multiplier * 2^(shift - 31) rounded once, half up (multiplier >= 0, -31 <= shift <= 30). */
static inline int32_t sapool_requantize_single(int32_t x, int32_t multiplier, int32_t shift)
{
    const int total_shift = 31 - (int)shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)(((int64_t)x * (int64_t)multiplier + round) >> total_shift);
}

/* The fused activation as an int8 clamp (bounds computed at compile time). */
static inline int8_t sapool_clamp_s8(int32_t x, int32_t low, int32_t high)
{
    if (x < low) {
        x = low;
    }
    if (x > high) {
        x = high;
    }
    return (int8_t)x;
}

#endif /* SAPOOL_QUANT_H */
