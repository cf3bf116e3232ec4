/* window_pool.c: SOFTMAX over a window of m, MUL by the same window of x, MEAN over the window, fused.
 *
 * SAP's window-normalised pooling (passes/fuse_window.py): each output element is one window. Its weights are
 * gathered from m into `row` (window[0] * window[1] bytes of scratch), softmaxed there by softmax.c (rows = 1),
 * each probability times its x value is requantised to int8 exactly as elementwise.c's MUL does, and the int8
 * products are summed in int32 and requantised by mean.c. Same integer arithmetic as the three kernels on the
 * materialised views, so the output is bit-identical, while the views, probabilities and products are never
 * stored. The output is written in window order, the order of the MEAN's output. */
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int8_t pooled_window(const sapool_window_pool_params *p, const sapool_softmax_params *softmax,
                            const int32_t *exp_table, const sapool_mul_params *mul, const sapool_mean_params *mean,
                            const int8_t *m, const int8_t *x, int8_t *row)
{
    int32_t a, b, n = 0;
    int32_t sum = 0;
    for (a = 0; a < p->window[0]; ++a) {
        for (b = 0; b < p->window[1]; ++b) {
            row[n++] = m[a * p->weights_window_strides[0] + b * p->weights_window_strides[1]];
        }
    }
    sapool_softmax_s8(softmax, exp_table, row, row);
    n = 0;
    for (a = 0; a < p->window[0]; ++a) {
        for (b = 0; b < p->window[1]; ++b) {
            const int32_t value = x[a * p->values_window_strides[0] + b * p->values_window_strides[1]];
            const int32_t product = ((int32_t)row[n++] + mul->input1_offset) * (value + mul->input2_offset);
            const int32_t scaled = sapool_requantize(product, mul->output_multiplier, mul->output_shift);
            sum += sapool_clamp_s8(scaled + mul->output_offset, mul->act_min, mul->act_max);
        }
    }
    return sapool_mean_of_sum(mean, sum);
}

void sapool_window_pool_s8(const sapool_window_pool_params *p, const sapool_softmax_params *softmax,
                           const int32_t *exp_table, const sapool_mul_params *mul, const sapool_mean_params *mean,
                           const int8_t *m, const int8_t *x, int8_t *output, int8_t *row)
{
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < p->rows[0]; ++i0) {
        for (i1 = 0; i1 < p->rows[1]; ++i1) {
            for (i2 = 0; i2 < p->rows[2]; ++i2) {
                for (i3 = 0; i3 < p->rows[3]; ++i3) {
                    const int32_t *ms = p->weights_row_strides, *xs = p->values_row_strides;
                    const int8_t *window_m = m + i0 * ms[0] + i1 * ms[1] + i2 * ms[2] + i3 * ms[3];
                    const int8_t *window_x = x + i0 * xs[0] + i1 * xs[1] + i2 * xs[2] + i3 * xs[3];
                    *output++ = pooled_window(p, softmax, exp_table, mul, mean, window_m, window_x, row);
                }
            }
        }
    }
}
