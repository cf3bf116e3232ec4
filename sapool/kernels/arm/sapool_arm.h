/* sapool_arm.h: the building blocks of the ACLE SIMD kernels in arm/ (cores with the DSP extension).
 *
 * Every arm/ kernel is a drop-in twin of the reference/ file of the same name: same function, same arguments,
 * same bits out. Two int8 operands are multiplied four at a time: one 32-bit load takes four bytes, __sxtb16
 * sign-extends bytes 0 and 2 into two int16 lanes and, on the word rotated by 8, bytes 1 and 3; __smlad multiplies
 * both lanes and adds the two products to an accumulator. Both operands are split the same way, so the pairs line
 * up without any re-layout of the weights (integer sums are exact, so the order of the additions does not matter).
 */
#ifndef SAPOOL_ARM_H
#define SAPOOL_ARM_H

#if !defined(__ARM_FEATURE_DSP)
#error "kernels/arm/ needs a core with the DSP extension (Cortex-M4, M7, M33, M55); build with KERNELS=reference"
#endif

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "sapool_quant.h"

/* Four bytes from any address (Cortex-M4/M7/M55 load unaligned words in one instruction). */
static inline int32_t sapool_load4(const int8_t *bytes)
{
    int32_t word;
    memcpy(&word, bytes, sizeof word);
    return word;
}

/* Bytes 0 and 2 of `word` as two int16 lanes. */
static inline int32_t sapool_even(int32_t word)
{
    return __sxtb16(word);
}

/* Bytes 1 and 3 of `word` as two int16 lanes: one sxtb16 with its operand rotated by 8 (GCC's builtin takes no
 * rotation and would spend a separate ror on it). */
static inline int32_t sapool_odd(int32_t word)
{
    int32_t lanes;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(lanes) : "r"(word));
    return lanes;
}

/* A channel's requantisation, decoded once per channel: x * multiplier * 2^(shift - 31) as TFLite's
 * MultiplyByQuantizedMultiplier (doubling high multiply, then rounding division by 2^right, ties away from 0). */
typedef struct {
    int32_t multiplier, left, right, half;
} sapool_requant;

static inline sapool_requant sapool_requant_of(int32_t multiplier, int32_t shift)
{
    const int32_t right = shift > 0 ? 0 : -shift;
    const sapool_requant q = {multiplier, shift > 0 ? shift : 0, right, (int32_t)((1u << right) >> 1)};
    return q;
}

/* True when every accumulator of a layer, shifted left by its channel's left shift plus one, fits int32: then
 * the doubling high multiply is one smmulr and the rounding division cannot overflow. |acc| <= |bias| + taps *
 * 128 * 127 (int8 inputs times int8 weights, folded bias); `shift` holds one entry per channel. */
static inline int sapool_requant_fits(const int32_t *bias, const int32_t *shift, int32_t channels, int32_t taps)
{
    const int64_t products = (int64_t)taps * 128 * 127;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        const int64_t magnitude = (bias[c] < 0 ? -(int64_t)bias[c] : (int64_t)bias[c]) + products;
        const int32_t left = shift[c] > 0 ? shift[c] : 0;
        if (magnitude >= ((int64_t)1 << (30 - left))) {
            return 0;
        }
    }
    return 1;
}

/* sapool_requantize(x, ...) for accumulators within sapool_requant_fits: (2x * m + 2^31) >> 32 is smmulr, and
 * the division rounds half away from zero as floor((high + half - [high < 0 and right > 0]) / 2^right). */
static inline int32_t sapool_requantize_fast(int32_t x, const sapool_requant *q)
{
    int32_t high;
    __asm__("smmulr %0, %1, %2" : "=r"(high) : "r"((int32_t)((uint32_t)x << (q->left + 1))), "r"(q->multiplier));
    return (high + q->half - (int32_t)((uint32_t)high >> 31 & (uint32_t)(q->half != 0))) >> q->right;
}

/* sapool_requantize(x, ...) for any accumulator (the reference formula, masks in 32 bits: right < 32). */
static inline int32_t sapool_requantize_exact(int32_t x, const sapool_requant *q)
{
    const int32_t high = sapool_doubling_high_mul((int32_t)((uint32_t)x << q->left), q->multiplier);
    const int32_t mask = (int32_t)((1u << q->right) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)high >> 31);
    return (high >> q->right) + ((high & mask) > threshold ? 1 : 0);
}

/* How a layer turns accumulators into int8: output zero point, activation clamp, and whether the fast
 * requantisation is exact for all its accumulators (sapool_requant_fits). */
typedef struct {
    int32_t output_offset, act_min, act_max;
    int fast;
} sapool_output_stage;

/* One int8 output: requantised accumulator plus the output zero point, clamped to the activation range. */
static inline int8_t sapool_arm_output(int32_t acc, const sapool_requant *q, const sapool_output_stage *out)
{
    const int32_t scaled = out->fast ? sapool_requantize_fast(acc, q) : sapool_requantize_exact(acc, q);
    return sapool_clamp_s8(scaled + out->output_offset, out->act_min, out->act_max);
}

/* Two vectors (a, b) against two weight rows (w0, w1) over `length` bytes:
 * acc[0] += a.w0, acc[1] += a.w1, acc[2] += b.w0, acc[3] += b.w1. 16 MACs per 8 SMLADs. */
static inline void sapool_dot_2x2(const int8_t *a, const int8_t *b, const int8_t *w0, const int8_t *w1,
                                  int32_t length, int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t b0 = acc[2];
    int32_t b1 = acc[3];
    const int8_t *end = a + (length & ~3);
    while (a < end) {
        const int32_t x = sapool_load4(a);
        const int32_t y = sapool_load4(b);
        const int32_t v = sapool_load4(w0);
        const int32_t u = sapool_load4(w1);
        const int32_t ve = sapool_even(v);
        const int32_t vo = sapool_odd(v);
        const int32_t ue = sapool_even(u);
        const int32_t uo = sapool_odd(u);
        int32_t half = sapool_even(x);
        a0 = __smlad(half, ve, a0);
        a1 = __smlad(half, ue, a1);
        half = sapool_odd(x);
        a0 = __smlad(half, vo, a0);
        a1 = __smlad(half, uo, a1);
        half = sapool_even(y);
        b0 = __smlad(half, ve, b0);
        b1 = __smlad(half, ue, b1);
        half = sapool_odd(y);
        b0 = __smlad(half, vo, b0);
        b1 = __smlad(half, uo, b1);
        a += 4;
        b += 4;
        w0 += 4;
        w1 += 4;
    }
    for (length &= 3; length > 0; --length) {
        a0 += *a * *w0;
        a1 += *a++ * *w1;
        b0 += *b * *w0++;
        b1 += *b++ * *w1++;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
}

/* One vector against two weight rows over `length` bytes: acc[0] += a.w0, acc[1] += a.w1. */
static inline void sapool_dot_1x2(const int8_t *a, const int8_t *w0, const int8_t *w1, int32_t length,
                                  int32_t acc[2])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    const int8_t *end = a + (length & ~3);
    while (a < end) {
        const int32_t x = sapool_load4(a);
        const int32_t v = sapool_load4(w0);
        const int32_t u = sapool_load4(w1);
        const int32_t xe = sapool_even(x);
        const int32_t xo = sapool_odd(x);
        a0 = __smlad(xe, sapool_even(v), a0);
        a0 = __smlad(xo, sapool_odd(v), a0);
        a1 = __smlad(xe, sapool_even(u), a1);
        a1 = __smlad(xo, sapool_odd(u), a1);
        a += 4;
        w0 += 4;
        w1 += 4;
    }
    for (length &= 3; length > 0; --length) {
        a0 += *a * *w0++;
        a1 += *a++ * *w1++;
    }
    acc[0] = a0;
    acc[1] = a1;
}

#endif /* SAPOOL_ARM_H */
