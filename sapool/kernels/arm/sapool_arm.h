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

/* A channel's requantisation: x * multiplier * 2^(shift - 31) as TFLite's MultiplyByQuantizedMultiplier
 * (doubling high multiply, then rounding division by 2^right, ties away from zero). The arm kernels get the shift
 * pre-decoded at compile time (sapool/backends/c/arm_layout.py, encoded_shifts): bits 0-7 the right shift (a
 * register shift reads only the bottom byte, so the code itself is the shift operand), bits 8-15 the left shift
 * + 1 (the doubling of the high multiply goes into the shift). */
static inline int32_t sapool_code_right(int32_t code)
{
    return code & 0xFF;
}

static inline int32_t sapool_code_left1(int32_t code)
{
    return (code >> 8) & 0xFF;
}

/* True when every accumulator of a layer, shifted left by its channel's left shift plus two, fits int32: then
 * the doubling high multiply is one smmulr and twice its result (sapool_requantize_offset) cannot overflow.
 * |acc| <= |bias| + taps * 128 * 127 (int8 inputs times int8 weights, folded bias); `codes` are the encoded
 * shifts, one per channel. */
static inline int sapool_requant_fits(const int32_t *bias, const int32_t *codes, int32_t channels, int32_t taps)
{
    const int64_t products = (int64_t)taps * 128 * 127;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        const int64_t magnitude = (bias[c] < 0 ? -(int64_t)bias[c] : (int64_t)bias[c]) + products;
        if (sapool_code_left1(codes[c]) >= 30 || magnitude >= ((int64_t)1 << (30 - sapool_code_left1(codes[c])))) {
            return 0;
        }
    }
    return 1;
}

/* sapool_requantize(x, ...) + offset for accumulators within sapool_requant_fits, in six instructions.
 * h = smmulr(x << (left + 1), m) is SaturatingRoundingDoublingHighMul; rounding h / 2^r half away from zero is
 * floor((floor(h' / 2^(r-1)) + 1) / 2) with h' = h - [h < 0] for r >= 1, and floor(h' / 2^(r-1)) equals
 * floor(t / 2^r) with t = 2h + (h >> 31) (2h - 1 is odd, so no multiple of 2^r lies between it and 2h - 2). The
 * same t gives (t + 1) >> 1 = h for r = 0, so one formula serves every channel: ((t >> r) + 2 offset + 1) >> 1,
 * the offset added inside because 2 offset is even. `offset2p1` is 2 * offset + 1. The _shifted form takes x
 * already shifted left by left + 1 (a caller that shifts anyway folds the two shifts). */
static inline int32_t sapool_requantize_shifted(int32_t x_shifted, int32_t multiplier, int32_t code,
                                                 int32_t offset2p1)
{
    int32_t high;
    int32_t shifted;
    __asm__("smmulr %0, %1, %2" : "=r"(high) : "r"(x_shifted), "r"(multiplier));
    /* asr by the code itself: a register shift takes the bottom byte, the right shift */
    __asm__("asr %0, %1, %2" : "=r"(shifted) : "r"((int32_t)((uint32_t)high << 1) + (high >> 31)), "r"(code));
    return (shifted + offset2p1) >> 1;
}

static inline int32_t sapool_requantize_offset(int32_t x, int32_t multiplier, int32_t code, int32_t offset2p1)
{
    return sapool_requantize_shifted((int32_t)((uint32_t)x << sapool_code_left1(code)), multiplier, code,
                                     offset2p1);
}

/* sapool_requantize(x, ...) for any accumulator (the reference formula, masks in 32 bits: right < 32). */
static inline int32_t sapool_requantize_exact(int32_t x, int32_t multiplier, int32_t code)
{
    const int32_t right = sapool_code_right(code);
    const int32_t high = sapool_doubling_high_mul((int32_t)((uint32_t)x << (sapool_code_left1(code) - 1)),
                                                  multiplier);
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)high >> 31);
    return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

/* How a layer turns accumulators into int8: output zero point, activation clamp, whether the fast
 * requantisation is exact for all its accumulators (sapool_requant_fits) and whether the clamp is narrower than
 * int8 (a fused activation that cuts into the range). */
typedef struct {
    int32_t output_offset, act_min, act_max;
    int fast;
    int32_t offset2p1; /* 2 * output_offset + 1 */
    int narrowed;      /* act_min > -128 or act_max < 127 */
    int lean;          /* fast and not narrowed: sapool_arm_output_lean applies */
} sapool_output_stage;

static inline sapool_output_stage sapool_output_stage_of(int32_t output_offset, int32_t act_min, int32_t act_max,
                                                         int fast)
{
    const int narrowed = act_min > -128 || act_max < 127;
    const sapool_output_stage stage = {output_offset, act_min, act_max, fast, 2 * output_offset + 1, narrowed,
                                       fast && !narrowed};
    return stage;
}

/* sapool_arm_output for a lean stage: the fast requantisation and one ssat, no test. */
static inline int8_t sapool_arm_output_lean(int32_t acc, int32_t multiplier, int32_t code, int32_t offset2p1)
{
    return (int8_t)__ssat(sapool_requantize_offset(acc, multiplier, code, offset2p1), 8);
}

/* One int8 output: requantised accumulator plus the output zero point, saturated to int8 (one ssat), then
 * clamped to the activation range where it is narrower. */
static inline int8_t sapool_arm_output(int32_t acc, int32_t multiplier, int32_t code,
                                       const sapool_output_stage *out)
{
    int32_t value = out->fast ? sapool_requantize_offset(acc, multiplier, code, out->offset2p1)
                              : sapool_requantize_exact(acc, multiplier, code) + out->output_offset;
    value = __ssat(value, 8);
    if (out->narrowed) {
        value = value < out->act_min ? out->act_min : value;
        value = value > out->act_max ? out->act_max : value;
    }
    return (int8_t)value;
}

#endif /* SAPOOL_ARM_H */
