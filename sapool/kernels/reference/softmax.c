/* softmax.c: int8 SOFTMAX over the last axis, bit-exact with TFLite's int8 kernel.
 *
 * TFLite's int8 softmax (the reference resolver uses the same code) looks exp up in a 256-entry float table
 * indexed by (x - row max), sums in float, and quantises prob / output_scale rounding half away from zero.
 * The float operations here are the same ones in the same order, so IEEE single precision gives the same bits;
 * rounding is done without libm (the fractional part of a float is exact).
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int32_t round_half_away(float value)
{
    int32_t whole = (int32_t)value; /* truncates toward zero; value is a probability, so >= 0 */
    if (value - (float)whole >= 0.5f) {
        whole += 1;
    }
    return whole;
}

void sapool_softmax_s8(const sapool_softmax_params *p, const float *exp_table, const int8_t *input,
                       int8_t *output)
{
    int32_t row;
    int32_t j;
    for (row = 0; row < p->rows; ++row) {
        const int8_t *x = input + row * p->depth;
        int8_t *y = output + row * p->depth;
        int32_t max_value = -128;
        int32_t base;
        float sum = 0.0f;
        float inverse;
        for (j = 0; j < p->depth; ++j) {
            max_value = x[j] > max_value ? x[j] : max_value;
        }
        base = 255 - max_value; /* exp_table[base + x] = exp(beta * input_scale * (x - max)) */
        for (j = 0; j < p->depth; ++j) {
            sum += exp_table[base + x[j]];
        }
        inverse = 1.0f / (sum * p->output_scale);
        for (j = 0; j < p->depth; ++j) {
            y[j] = sapool_clamp_s8(round_half_away(exp_table[base + x[j]] * inverse) + p->output_offset, -128, 127);
        }
    }
}
