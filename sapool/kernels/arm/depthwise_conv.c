/* depthwise_conv.c (arm): int8 DEPTHWISE_CONV_2D with ACLE SIMD, bit-exact twin of reference/depthwise_conv.c.
 *
 * Depth multiplier 1 (what MCU CNNs use): four channels per pass. Per tap one word of input and one of weights
 * (the same four channels, NHWC and [1, kh, kw, c] are both channel-contiguous); __sxtb16 splits each into
 * channels (0, 2) and (1, 3), and __smlabb / __smlatt multiply-accumulate the bottom and top lanes, one channel
 * each. Interior pixels take the folded bias; border pixels the plain bias, with the input offset added to both
 * lanes at once (__sadd16: int8 + offset fits int16). A full 3x3 window is a fixed-size loop the compiler
 * unrolls. Requantisation parameters are decoded once per channel, outside the tap loop. Channels left over
 * (not a multiple of 4) and other depth multipliers take a one-channel loop.
 */
#include "sapool_arm.h"
#include "sapool_kernels.h"

/* The taps k in [0, kernel) of one window axis that land inside [0, size): first and one-past-last. */
static void clip_taps(int32_t origin, int32_t dilation, int32_t kernel, int32_t size, int32_t *first, int32_t *end)
{
    int32_t k = 0;
    while (k < kernel && origin + k * dilation < 0) {
        ++k;
    }
    *first = k;
    while (k < kernel && origin + k * dilation < size) {
        ++k;
    }
    *end = k;
}

/* The window's taps [ky_first, ky_end) x [kx_first, kx_end), `window` pointing at the first of them. */
typedef struct {
    int32_t ky_first, ky_end, kx_first, kx_end;
} tap_range;

/* Four channels c..c+3 of one output pixel (depth multiplier 1). `offset` is 0 for interior pixels (folded
 * bias), the input offset for border ones. Always inlined so that a constant 3x3 range unrolls. */
static inline __attribute__((always_inline)) void four_channels(
    const sapool_conv_params *p, const sapool_output_stage *stage, const int8_t *window, const int8_t *filter,
    tap_range taps, int32_t c, const int32_t *bias, int32_t offset, const int32_t *multiplier,
    const int32_t *shift, int8_t *output)
{
    const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
    const int32_t tap_step = p->dilation_w * p->in_c;
    const int32_t offsets = (int32_t)(((uint32_t)offset << 16) | ((uint32_t)offset & 0xFFFFu));
    int32_t acc0 = bias[c];
    int32_t acc1 = bias[c + 1];
    int32_t acc2 = bias[c + 2];
    int32_t acc3 = bias[c + 3];
    const int8_t *row = window + c;
    int32_t ky;
    int32_t kx;
    int32_t k;
    for (ky = taps.ky_first; ky < taps.ky_end; ++ky, row += row_step) {
        const int8_t *tap = row;
        const int8_t *weight = filter + (ky * p->kernel_w + taps.kx_first) * p->out_c + c;
        for (kx = taps.kx_first; kx < taps.kx_end; ++kx, tap += tap_step, weight += p->out_c) {
            const int32_t x = sapool_load4(tap);
            const int32_t w = sapool_load4(weight);
            int32_t x_even = sapool_even(x);
            int32_t x_odd = sapool_odd(x);
            const int32_t w_even = sapool_even(w);
            const int32_t w_odd = sapool_odd(w);
            if (offset != 0) {
                x_even = __sadd16(x_even, offsets);
                x_odd = __sadd16(x_odd, offsets);
            }
            acc0 = __smlabb(x_even, w_even, acc0);
            acc2 = __smlatt(x_even, w_even, acc2);
            acc1 = __smlabb(x_odd, w_odd, acc1);
            acc3 = __smlatt(x_odd, w_odd, acc3);
        }
    }
    {
        const int32_t acc[4] = {acc0, acc1, acc2, acc3};
        for (k = 0; k < 4; ++k) {
            const sapool_requant q = sapool_requant_of(multiplier[c + k], shift[c + k]);
            output[c + k] = sapool_arm_output(acc[k], &q, stage);
        }
    }
}

/* Output channel oc alone (reads input channel oc / depth_multiplier), with the input offset per tap. */
static void one_channel(const sapool_conv_params *p, const sapool_output_stage *stage, const int8_t *window,
                        const int8_t *filter, tap_range taps, int32_t oc, const int32_t *bias, int32_t offset,
                        const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
    const int32_t tap_step = p->dilation_w * p->in_c;
    const sapool_requant q = sapool_requant_of(multiplier[oc], shift[oc]);
    const int8_t *row = window + oc / p->depth_multiplier;
    int32_t acc = bias[oc];
    int32_t ky;
    int32_t kx;
    for (ky = taps.ky_first; ky < taps.ky_end; ++ky, row += row_step) {
        const int8_t *tap = row;
        const int8_t *weight = filter + (ky * p->kernel_w + taps.kx_first) * p->out_c + oc;
        for (kx = taps.kx_first; kx < taps.kx_end; ++kx, tap += tap_step, weight += p->out_c) {
            acc += ((int32_t)*tap + offset) * *weight;
        }
    }
    output[oc] = sapool_arm_output(acc, &q, stage);
}

void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *folded_bias, const int32_t *multiplier,
                                const int32_t *shift, int8_t *output)
{
    const int32_t taps_per_window = p->kernel_h * p->kernel_w;
    const sapool_output_stage border = {p->output_offset, p->act_min, p->act_max,
                                        sapool_requant_fits(bias, shift, p->out_c, taps_per_window)};
    const sapool_output_stage interior = {p->output_offset, p->act_min, p->act_max,
                                          sapool_requant_fits(folded_bias, shift, p->out_c, taps_per_window)};
    const int full_3x3 = p->kernel_h == 3 && p->kernel_w == 3;
    const int32_t vector_end = p->depth_multiplier == 1 ? p->out_c & ~3 : 0;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            tap_range taps;
            clip_taps(y0, p->dilation_h, p->kernel_h, p->in_h, &taps.ky_first, &taps.ky_end);
            for (out_x = 0; out_x < p->out_w; ++out_x, output += p->out_c) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                const int8_t *window;
                int inside;
                clip_taps(x0, p->dilation_w, p->kernel_w, p->in_w, &taps.kx_first, &taps.kx_end);
                window = image + ((y0 + taps.ky_first * p->dilation_h) * p->in_w + x0
                                  + taps.kx_first * p->dilation_w) * p->in_c;
                inside = taps.ky_end - taps.ky_first == p->kernel_h && taps.kx_end - taps.kx_first == p->kernel_w;
                if (inside && full_3x3) {
                    const tap_range all = {0, 3, 0, 3};
                    for (c = 0; c < vector_end; c += 4) {
                        four_channels(p, &interior, window, filter, all, c, folded_bias, 0, multiplier, shift,
                                      output);
                    }
                } else if (inside) {
                    for (c = 0; c < vector_end; c += 4) {
                        four_channels(p, &interior, window, filter, taps, c, folded_bias, 0, multiplier, shift,
                                      output);
                    }
                } else {
                    for (c = 0; c < vector_end; c += 4) {
                        four_channels(p, &border, window, filter, taps, c, bias, p->input_offset, multiplier, shift,
                                      output);
                    }
                }
                for (c = vector_end; c < p->out_c; ++c) {
                    one_channel(p, inside ? &interior : &border, window, filter, taps, c,
                                inside ? folded_bias : bias, inside ? 0 : p->input_offset, multiplier, shift, output);
                }
            }
        }
    }
}
