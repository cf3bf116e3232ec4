/* softmax.c: int8 SOFTMAX over the last axis, bit-exact with TFLite's reference kernel (reference_ops::Softmax).
 *
 * TFLite's reference resolver runs gemmlowp's fixed-point softmax, integer only. Each difference to the row
 * maximum (0..-255 for int8) is scaled by beta * input_scale and exponentiated in fixed point; those 256 values
 * depend only on the difference, so sapool tabulates them at compile time (`exp_table[max - x]`, Q0.31, 0 where
 * TFLite skips the term). The kernel keeps the rest as TFLite does it: the Q12.19 sum, its reciprocal by three
 * Newton-Raphson steps, and each probability rounded to 1/256 steps. No float, no libm.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

/* x * 2^exponent, saturating to the int32 range (gemmlowp's SaturatingRoundingMultiplyByPOT, exponent > 0). */
static int32_t saturating_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return x * ((int32_t)1 << exponent);
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out: Newton-Raphson from 48/17 - 32/17 * d, in Q2.29. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + sapool_doubling_high_mul(half_denominator, -1010580540);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x =
            ((int32_t)1 << 29) - sapool_doubling_high_mul(half_denominator, x);
        x += saturating_shift_left(sapool_doubling_high_mul(x, one_minus_half_denominator_times_x), 2);
    }
    return saturating_shift_left(x, 1);
}

static int leading_zeros(uint32_t x)
{
    int count = 0;
    while (count < 32 && !(x & ((uint32_t)1 << (31 - count)))) {
        ++count;
    }
    return count;
}

void sapool_softmax_s8(const sapool_softmax_params *p, const int32_t *exp_table, const int8_t *input,
                       int8_t *output)
{
    int32_t row;
    int32_t j;
    for (row = 0; row < p->rows; ++row) {
        const int8_t *x = input + row * p->depth;
        int8_t *y = output + row * p->depth;
        int32_t max_value = -128;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int headroom;
        int32_t reciprocal;
        int exponent;
        for (j = 0; j < p->depth; ++j) {
            max_value = x[j] > max_value ? x[j] : max_value;
        }
        for (j = 0; j < p->depth; ++j) {
            sum_of_exps += sapool_divide_by_pot(exp_table[max_value - x[j]], 12);
        }
        headroom = leading_zeros((uint32_t)sum_of_exps);
        reciprocal = one_over_one_plus_x((int32_t)(((uint32_t)sum_of_exps << headroom) - ((uint32_t)1 << 31)));
        exponent = (12 - headroom) + 31 - 8;
        for (j = 0; j < p->depth; ++j) {
            const int32_t scaled = sapool_doubling_high_mul(reciprocal, exp_table[max_value - x[j]]);
            y[j] = sapool_clamp_s8(sapool_divide_by_pot(scaled, exponent) - 128, -128, 127);
        }
    }
}
