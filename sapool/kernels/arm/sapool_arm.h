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

/* 16 MACs of sapool_dot_2x2: four bytes of a and of b against four of each of two filter rows. WEIGHTS loads
 * the two weight words (one ldrd where they are word-aligned, two ldr otherwise); the rest is 2 input loads,
 * 8 sxtb16 and 8 smlad. */
#define SAPOOL_DOT_2X2_STEP(WEIGHTS)                                                                              \
    "ldr %[x], [%[a]], #4\n\t" WEIGHTS                                                                            \
    "sxtb16 %[v_even], %[v]\n\t"                                                                                  \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                                               \
    "sxtb16 %[u_even], %[u]\n\t"                                                                                  \
    "sxtb16 %[u], %[u], ror #8\n\t"                                                                               \
    "sxtb16 %[x_even], %[x]\n\t"                                                                                  \
    "sxtb16 %[x], %[x], ror #8\n\t"                                                                               \
    "smlad %[a0], %[x_even], %[v_even], %[a0]\n\t"                                                                \
    "smlad %[a1], %[x_even], %[u_even], %[a1]\n\t"                                                                \
    "smlad %[a0], %[x], %[v], %[a0]\n\t"                                                                          \
    "smlad %[a1], %[x], %[u], %[a1]\n\t"                                                                          \
    "ldr %[x], [%[b]], #4\n\t"                                                                                    \
    "sxtb16 %[x_even], %[x]\n\t"                                                                                  \
    "sxtb16 %[x], %[x], ror #8\n\t"                                                                               \
    "smlad %[b0], %[x_even], %[v_even], %[b0]\n\t"                                                                \
    "smlad %[b1], %[x_even], %[u_even], %[b1]\n\t"                                                                \
    "smlad %[b0], %[x], %[v], %[b0]\n\t"                                                                          \
    "smlad %[b1], %[x], %[u], %[b1]\n\t"
#define SAPOOL_LDRD_WEIGHTS "ldrd %[v], %[u], [%[w]], #8\n\t"
#define SAPOOL_LDR_WEIGHTS "ldr %[v], [%[w]], #4\n\tldr %[u], [%[w]], #4\n\t"
#define SAPOOL_DOT_2X2_OPERANDS                                                                                   \
    : [a] "+r"(a), [b] "+r"(b), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1),          \
      [x] "=&r"(x), [v] "=&r"(v), [u] "=&r"(u), [v_even] "=&r"(v_even), [u_even] "=&r"(u_even),                   \
      [x_even] "=&r"(x_even)                                                                                      \
    : [end] "r"(end)                                                                                              \
    : "cc"

/* Two inputs (a, b) against a pair of filter rows over one run of `length` bytes, the rows interleaved as
 * sapool/backends/c/arm_layout.py writes them (4 bytes of row 0, 4 of row 1, ...; the length % 4 last bytes of
 * row 0, then of row 1): acc[0] += a.row0, acc[1] += a.row1, acc[2] += b.row0, acc[3] += b.row1.
 * Returns the weights after the run. The word loop is written out in assembly: it needs 14 registers (4
 * pointers, 4 accumulators, 6 temporaries), which GCC does not manage without spilling. With word-aligned
 * weights (every run of a 1x1 convolution with in_c % 4 == 0: model.c aligns the arrays) one ldrd takes both
 * rows' words and the loop does 64 MACs per pass: 12 loads, 32 sxtb16, 32 smlad, compare and branch (1.22
 * instructions per MAC); otherwise 16 MACs with two weight loads. It only reads memory the kernel never writes
 * (inputs and weights), so it declares no memory clobber, which would make GCC reload every layer constant
 * after it. */
static inline const int8_t *sapool_dot_2x2(const int8_t *a, const int8_t *b, const int8_t *w, int32_t length,
                                           int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t b0 = acc[2];
    int32_t b1 = acc[3];
    const int32_t tail = length & 3;
    int32_t t;
    int32_t x;
    int32_t v;
    int32_t u;
    int32_t v_even;
    int32_t u_even;
    int32_t x_even;
    if (length >= 4 && ((uintptr_t)w & 3) == 0) {
        const int8_t *end = a + (length - tail);
        if (length & 4) { /* an odd word first, then an odd pair, then quadruples */
            __asm__(SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_OPERANDS);
        }
        if (length & 8) {
            __asm__(SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS)
                    SAPOOL_DOT_2X2_OPERANDS);
        }
        if (a != end) {
            __asm__("1:\n\t" SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS)
                    SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS)
                    "cmp %[a], %[end]\n\t"
                    "bne 1b" SAPOOL_DOT_2X2_OPERANDS);
        }
    } else if (length >= 4) {
        const int8_t *end = a + (length - tail);
        __asm__("1:\n\t" SAPOOL_DOT_2X2_STEP(SAPOOL_LDR_WEIGHTS)
                "cmp %[a], %[end]\n\t"
                "bne 1b" SAPOOL_DOT_2X2_OPERANDS);
    }
    for (t = 0; t < tail; ++t) {
        a0 += a[t] * w[t];
        a1 += a[t] * w[tail + t];
        b0 += b[t] * w[t];
        b1 += b[t] * w[tail + t];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
    return w + 2 * tail;
}

/* sapool_dot_2x2 over `runs` runs of `run` bytes each (run % 16 == 0, weights word-aligned), the runs of a and b
 * `row_step` apart: a window's kernel rows read in place. The loop over runs is inside the assembly (its
 * counters in memory operands, the 14 registers being taken), about 10 instructions per run instead of the
 * ~30 of entering sapool_dot_2x2 once per run. */
static inline const int8_t *sapool_dot_2x2_runs(const int8_t *a, const int8_t *b, const int8_t *w, int32_t run,
                                                int32_t runs, int32_t row_step, int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t b0 = acc[2];
    int32_t b1 = acc[3];
    int32_t runs_left = runs;
    const int32_t advance = row_step - run;
    const int8_t *end = a + run;
    int32_t x;
    int32_t v;
    int32_t u;
    int32_t v_even;
    int32_t u_even;
    int32_t x_even;
    __asm__("1:\n\t" SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS)
            SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDRD_WEIGHTS)
            "cmp %[a], %[end]\n\t"
            "bne 1b\n\t"
            "ldr %[x], %[runs_left]\n\t"
            "subs %[x], %[x], #1\n\t"
            "beq 2f\n\t"
            "str %[x], %[runs_left]\n\t"
            "ldr %[x], %[advance]\n\t"
            "add %[a], %[a], %[x]\n\t"
            "add %[b], %[b], %[x]\n\t"
            "ldr %[x], %[run]\n\t"
            "add %[end], %[a], %[x]\n\t"
            "b 1b\n\t"
            "2:"
            : [a] "+r"(a), [b] "+r"(b), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1),
              [x] "=&r"(x), [v] "=&r"(v), [u] "=&r"(u), [v_even] "=&r"(v_even), [u_even] "=&r"(u_even),
              [x_even] "=&r"(x_even), [end] "+r"(end), [runs_left] "+m"(runs_left)
            : [advance] "m"(advance), [run] "m"(run)
            : "cc");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
    return w;
}

/* sapool_dot_2x2 over `runs` runs of 9 bytes (a 3x3 window over three input channels: a first layer), the runs
 * of a and b `row_step` apart, weights in any alignment: per run two 16-MAC steps with word loads and the ninth
 * byte's four MACs (smlabb on the sign-extended bytes), the loop over runs inside the assembly as in
 * sapool_dot_2x2_runs. */
static inline const int8_t *sapool_dot_2x2_runs9(const int8_t *a, const int8_t *b, const int8_t *w, int32_t runs,
                                                 int32_t row_step, int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t b0 = acc[2];
    int32_t b1 = acc[3];
    int32_t runs_left = runs;
    const int32_t advance = row_step - 9;
    int32_t x;
    int32_t v;
    int32_t u;
    int32_t v_even;
    int32_t u_even;
    int32_t x_even;
    __asm__("1:\n\t" SAPOOL_DOT_2X2_STEP(SAPOOL_LDR_WEIGHTS) SAPOOL_DOT_2X2_STEP(SAPOOL_LDR_WEIGHTS)
            "ldrsb %[x], [%[a]], #1\n\t"
            "ldrsb %[v], [%[w]], #1\n\t"
            "ldrsb %[u], [%[w]], #1\n\t"
            "smlabb %[a0], %[x], %[v], %[a0]\n\t"
            "smlabb %[a1], %[x], %[u], %[a1]\n\t"
            "ldrsb %[x], [%[b]], #1\n\t"
            "smlabb %[b0], %[x], %[v], %[b0]\n\t"
            "smlabb %[b1], %[x], %[u], %[b1]\n\t"
            "ldr %[x], %[runs_left]\n\t"
            "subs %[x], %[x], #1\n\t"
            "beq 2f\n\t"
            "str %[x], %[runs_left]\n\t"
            "ldr %[x], %[advance]\n\t"
            "add %[a], %[a], %[x]\n\t"
            "add %[b], %[b], %[x]\n\t"
            "b 1b\n\t"
            "2:"
            : [a] "+r"(a), [b] "+r"(b), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1),
              [x] "=&r"(x), [v] "=&r"(v), [u] "=&r"(u), [v_even] "=&r"(v_even), [u_even] "=&r"(u_even),
              [x_even] "=&r"(x_even), [runs_left] "+m"(runs_left)
            : [advance] "m"(advance)
            : "cc");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
    return w;
}

/* One input against two pairs of interleaved filter rows (as sapool_dot_2x2 lays them out, pair 1 at w0, pair 2
 * at w1, both word-aligned): acc[0..1] += a.pair1 rows, acc[2..3] += a.pair2 rows over `length` bytes. Each input
 * word is split once for four rows: 1 input load, 2 ldrd, 10 sxtb16, 8 smlad and the loop's compare and branch per
 * 16 MACs (a lone input row, as in FULLY_CONNECTED with one batch row). */
static inline void sapool_dot_1x4(const int8_t *a, const int8_t *w0, const int8_t *w1, int32_t length, int32_t acc[4])
{
    int32_t acc0 = acc[0];
    int32_t acc1 = acc[1];
    int32_t acc2 = acc[2];
    int32_t acc3 = acc[3];
    const int32_t tail = length & 3;
    int32_t t;
    if (length >= 4) {
        const int8_t *end = a + (length - tail);
        int32_t x;
        int32_t x_even;
        int32_t v;
        int32_t u;
        int32_t lanes;
        __asm__("1:\n\t"
                "ldr %[x], [%[a]], #4\n\t"
                "ldrd %[v], %[u], [%[w0]], #8\n\t"
                "sxtb16 %[x_even], %[x]\n\t"
                "sxtb16 %[x], %[x], ror #8\n\t"
                "sxtb16 %[lanes], %[v]\n\t"
                "smlad %[acc0], %[x_even], %[lanes], %[acc0]\n\t"
                "sxtb16 %[v], %[v], ror #8\n\t"
                "smlad %[acc0], %[x], %[v], %[acc0]\n\t"
                "sxtb16 %[lanes], %[u]\n\t"
                "smlad %[acc1], %[x_even], %[lanes], %[acc1]\n\t"
                "sxtb16 %[u], %[u], ror #8\n\t"
                "smlad %[acc1], %[x], %[u], %[acc1]\n\t"
                "ldrd %[v], %[u], [%[w1]], #8\n\t"
                "sxtb16 %[lanes], %[v]\n\t"
                "smlad %[acc2], %[x_even], %[lanes], %[acc2]\n\t"
                "sxtb16 %[v], %[v], ror #8\n\t"
                "smlad %[acc2], %[x], %[v], %[acc2]\n\t"
                "sxtb16 %[lanes], %[u]\n\t"
                "smlad %[acc3], %[x_even], %[lanes], %[acc3]\n\t"
                "sxtb16 %[u], %[u], ror #8\n\t"
                "smlad %[acc3], %[x], %[u], %[acc3]\n\t"
                "cmp %[a], %[end]\n\t"
                "bne 1b"
                : [a] "+r"(a), [w0] "+r"(w0), [w1] "+r"(w1), [acc0] "+r"(acc0), [acc1] "+r"(acc1),
                  [acc2] "+r"(acc2), [acc3] "+r"(acc3), [x] "=&r"(x), [x_even] "=&r"(x_even), [v] "=&r"(v),
                  [u] "=&r"(u), [lanes] "=&r"(lanes)
                : [end] "r"(end)
                : "cc");
    }
    for (t = 0; t < tail; ++t) {
        acc0 += a[t] * w0[t];
        acc1 += a[t] * w0[tail + t];
        acc2 += a[t] * w1[t];
        acc3 += a[t] * w1[tail + t];
    }
    acc[0] = acc0;
    acc[1] = acc1;
    acc[2] = acc2;
    acc[3] = acc3;
}

/* One input against a pair of interleaved filter rows (as sapool_dot_2x2): acc[0] += a.row0, acc[1] += a.row1. */
static inline const int8_t *sapool_dot_1x2(const int8_t *a, const int8_t *w, int32_t length, int32_t acc[2])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    const int8_t *end = a + (length & ~3);
    const int32_t tail = length & 3;
    int32_t t;
    while (a < end) {
        const int32_t x = sapool_load4(a);
        const int32_t v = sapool_load4(w);
        const int32_t u = sapool_load4(w + 4);
        const int32_t x_even = sapool_even(x);
        const int32_t x_odd = sapool_odd(x);
        a0 = __smlad(x_even, sapool_even(v), a0);
        a0 = __smlad(x_odd, sapool_odd(v), a0);
        a1 = __smlad(x_even, sapool_even(u), a1);
        a1 = __smlad(x_odd, sapool_odd(u), a1);
        a += 4;
        w += 8;
    }
    for (t = 0; t < tail; ++t) {
        a0 += a[t] * w[t];
        a1 += a[t] * w[tail + t];
    }
    acc[0] = a0;
    acc[1] = a1;
    return w + 2 * tail;
}

/* acc + a.w over `length` bytes, both in plain order (an odd last filter row). */
static inline int32_t sapool_dot_1x1(const int8_t *a, const int8_t *w, int32_t length, int32_t acc)
{
    int32_t k = 0;
    for (; k + 4 <= length; k += 4) {
        const int32_t x = sapool_load4(a + k);
        const int32_t v = sapool_load4(w + k);
        acc = __smlad(sapool_even(x), sapool_even(v), acc);
        acc = __smlad(sapool_odd(x), sapool_odd(v), acc);
    }
    for (; k < length; ++k) {
        acc += a[k] * w[k];
    }
    return acc;
}

#endif /* SAPOOL_ARM_H */
