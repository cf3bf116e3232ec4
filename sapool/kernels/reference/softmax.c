/* softmax.c: int8 SOFTMAX over the last axis, bit-exact with TFLite's reference kernel (reference_ops::Softmax).
 *
 * TFLite's reference resolver runs gemmlowp's fixed-point softmax, integer only: each difference to the row
 * maximum is scaled to Q5.26 by beta * input_scale (multiplier and left shift from compile time), exp() is a
 * Taylor polynomial on [-1/4, 0) times a barrel of exp(-2^k) constants, the sum is accumulated in Q12.19, its
 * reciprocal comes from three Newton-Raphson steps, and each probability is rounded to 1/256 steps. Differences
 * below `diff_min` (exp too small to count) give -128 directly. No float, no libm.
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

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: the Taylor expansion around -1/8 to the 4th order. */
static int32_t exp_on_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + ((int32_t)1 << 28);
    const int32_t x2 = sapool_doubling_high_mul(x, x);
    const int32_t x3 = sapool_doubling_high_mul(x2, x);
    const int32_t x4 = sapool_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = sapool_divide_by_pot(x4, 2);
    const int32_t higher_terms = sapool_divide_by_pot(sapool_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + sapool_doubling_high_mul(exp_minus_one_eighth, x + higher_terms);
}

/* exp(a) for a <= 0 in Q5.26, result in Q0.31: exp of a mod 1/4, times exp(-2^k) for each bit k of the rest. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t exp_of_minus_powers_of_two[7] = { /* exp(-2^k) in Q0.31, k = -2 .. 4 */
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t quarter = (int32_t)1 << 24;
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    int32_t result = exp_on_quarter_interval(saturating_shift_left(a_mod_quarter_minus_quarter, 5));
    int k;
    if (a == 0) {
        return INT32_MAX;
    }
    for (k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (24 + k))) {
            result = sapool_doubling_high_mul(result, exp_of_minus_powers_of_two[k]);
        }
    }
    return result;
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

static int32_t scaled_exp(const sapool_softmax_params *p, int32_t difference)
{
    return exp_on_negative_values(
        sapool_doubling_high_mul(difference * ((int32_t)1 << p->input_left_shift), p->input_multiplier));
}

void sapool_softmax_s8(const sapool_softmax_params *p, const int8_t *input, int8_t *output)
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
            if (x[j] - max_value >= p->diff_min) {
                sum_of_exps += sapool_divide_by_pot(scaled_exp(p, x[j] - max_value), 12);
            }
        }
        headroom = leading_zeros((uint32_t)sum_of_exps);
        reciprocal = one_over_one_plus_x((int32_t)(((uint32_t)sum_of_exps << headroom) - ((uint32_t)1 << 31)));
        exponent = (12 - headroom) + 31 - 8;
        for (j = 0; j < p->depth; ++j) {
            int32_t value = -128;
            if (x[j] - max_value >= p->diff_min) {
                value = sapool_divide_by_pot(sapool_doubling_high_mul(reciprocal, scaled_exp(p, x[j] - max_value)),
                                             exponent) - 128;
            }
            y[j] = sapool_clamp_s8(value, -128, 127);
        }
    }
}
