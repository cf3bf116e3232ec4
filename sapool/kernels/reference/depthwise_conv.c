/* depthwise_conv.c: int8 DEPTHWISE_CONV_2D, bit-exact with TFLite's reference_integer_ops::DepthwiseConvPerChannel.
 *
 * Output channel oc = ic * depth_multiplier + m reads input channel ic; filter is [1, kh, kw, out_c].
 * TFLite accumulates (input + input_offset) * filter over the taps inside the input. Where the whole window is
 * inside (most pixels), the input_offset term is the same for every pixel and comes folded into `folded_bias`
 * (computed at compile time); border pixels use the plain bias and add the offset per tap. With depth multiplier 1
 * four channels go per pass; larger multipliers take a channel-by-channel loop.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

/* Depth multiplier 1: one output pixel, four channels per pass, over the taps [ky_first, ky_end) x
 * [kx_first, kx_end) that lie inside the input. `window` points at the first of them (channel 0). Interior pixels
 * pass the folded bias and offset 0; border pixels the plain bias and the input offset. */
static void pixel_channels(const sapool_conv_params *p, const int8_t *window, const int8_t *filter,
                                  int32_t ky_first, int32_t ky_end, int32_t kx_first, int32_t kx_end,
                                  const int32_t *bias, int32_t offset, const int32_t *multiplier,
                                  const int32_t *shift, int8_t *output)
{
    const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
    const int32_t tap_step = p->dilation_w * p->in_c;
    int32_t c = 0;
    int32_t ky;
    int32_t kx;
    for (; c + 4 <= p->out_c; c += 4) {
        int32_t acc0 = bias[c];
        int32_t acc1 = bias[c + 1];
        int32_t acc2 = bias[c + 2];
        int32_t acc3 = bias[c + 3];
        const int8_t *row = window + c;
        for (ky = ky_first; ky < ky_end; ++ky, row += row_step) {
            const int8_t *tap = row;
            const int8_t *weight = filter + (ky * p->kernel_w + kx_first) * p->out_c + c;
            for (kx = kx_first; kx < kx_end; ++kx, tap += tap_step, weight += p->out_c) {
                acc0 += ((int32_t)tap[0] + offset) * weight[0];
                acc1 += ((int32_t)tap[1] + offset) * weight[1];
                acc2 += ((int32_t)tap[2] + offset) * weight[2];
                acc3 += ((int32_t)tap[3] + offset) * weight[3];
            }
        }
        output[c] = sapool_clamp_s8(sapool_requantize(acc0, multiplier[c], shift[c]) + p->output_offset,
                                    p->act_min, p->act_max);
        output[c + 1] = sapool_clamp_s8(sapool_requantize(acc1, multiplier[c + 1], shift[c + 1]) + p->output_offset,
                                        p->act_min, p->act_max);
        output[c + 2] = sapool_clamp_s8(sapool_requantize(acc2, multiplier[c + 2], shift[c + 2]) + p->output_offset,
                                        p->act_min, p->act_max);
        output[c + 3] = sapool_clamp_s8(sapool_requantize(acc3, multiplier[c + 3], shift[c + 3]) + p->output_offset,
                                        p->act_min, p->act_max);
    }
    for (; c < p->out_c; ++c) {
        int32_t acc = bias[c];
        const int8_t *row = window + c;
        for (ky = ky_first; ky < ky_end; ++ky, row += row_step) {
            const int8_t *tap = row;
            const int8_t *weight = filter + (ky * p->kernel_w + kx_first) * p->out_c + c;
            for (kx = kx_first; kx < kx_end; ++kx, tap += tap_step, weight += p->out_c) {
                acc += ((int32_t)*tap + offset) * *weight;
            }
        }
        output[c] = sapool_clamp_s8(sapool_requantize(acc, multiplier[c], shift[c]) + p->output_offset,
                                    p->act_min, p->act_max);
    }
}

void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *folded_bias, const int32_t *multiplier,
                                const int32_t *shift, int8_t *output)
{
    const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
    const int32_t tap_step = p->dilation_w * p->in_c;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t ic;
    int32_t m;
    int32_t ky;
    int32_t kx;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            int32_t ky_first;
            int32_t ky_end;
            sapool_clip_taps(y0, p->dilation_h, p->kernel_h, p->in_h, &ky_first, &ky_end);
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                int32_t kx_first;
                int32_t kx_end;
                const int8_t *window;
                sapool_clip_taps(x0, p->dilation_w, p->kernel_w, p->in_w, &kx_first, &kx_end);
                window = image + ((y0 + ky_first * p->dilation_h) * p->in_w + x0 + kx_first * p->dilation_w) * p->in_c;
                if (p->depth_multiplier == 1) {
                    const int interior = ky_end - ky_first == p->kernel_h && kx_end - kx_first == p->kernel_w;
                    pixel_channels(p, window, filter, ky_first, ky_end, kx_first, kx_end,
                                   interior ? folded_bias : bias, interior ? 0 : p->input_offset,
                                   multiplier, shift, output);
                    output += p->out_c;
                    continue;
                }
                for (ic = 0; ic < p->in_c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = bias[oc];
                        const int8_t *row = window + ic;
                        for (ky = ky_first; ky < ky_end; ++ky, row += row_step) {
                            const int8_t *tap = row;
                            const int8_t *weight = filter + (ky * p->kernel_w + kx_first) * p->out_c + oc;
                            for (kx = kx_first; kx < kx_end; ++kx, tap += tap_step, weight += p->out_c) {
                                acc += ((int32_t)*tap + p->input_offset) * (int32_t)*weight;
                            }
                        }
                        acc = sapool_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset;
                        *output++ = sapool_clamp_s8(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
