/* sapool_arm_dot.h: the int8 dot-product inner loops of the arm/ kernels (inline assembly over SXTB16 + SMLAD),
 * split from sapool_arm.h so that only the kernels that run them (conv.c, fully_connected.c) read them.
 * Filter rows are laid out by backends/c/arm_layout.py at generation time as these loops read them. */
#ifndef SAPOOL_ARM_DOT_H
#define SAPOOL_ARM_DOT_H

#include "sapool_arm.h"

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

#endif /* SAPOOL_ARM_DOT_H */
