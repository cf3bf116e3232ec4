/* grouped_conv.c: CONV_2D with groups > 1 (filter depth = input depth / groups, not depthwise).
 *
 * TFLite's reference ConvPerChannel: output channel oc belongs to group oc / (out_c / groups) and reads input
 * channels [group * filter_depth, (group + 1) * filter_depth); taps outside the input are skipped (they would hold
 * the zero point, which the input offset cancels). Accumulate, add the bias, requantise with double rounding,
 * add the output zero point, clamp. Output pixels in row order, each written after its own taps are read, so the
 * kernel keeps CONV_2D's in-place contract (docs/adding_an_op.md).
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_grouped_conv2d_s8(const sapool_conv_params *p, int32_t groups, const int8_t *input,
                              const int8_t *filter, const int32_t *bias, const int32_t *multiplier,
                              const int32_t *shift, int8_t *output)
{
    const int32_t filter_depth = p->in_c / groups;
    const int32_t per_group = p->out_c / groups;
    int32_t batch, out_y, out_x, oc, ky, kx, ic;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const int32_t origin_y = out_y * p->stride_h - p->pad_top;
                const int32_t origin_x = out_x * p->stride_w - p->pad_left;
                int32_t first_y, end_y, first_x, end_x;
                sapool_clip_taps(origin_y, p->dilation_h, p->kernel_h, p->in_h, &first_y, &end_y);
                sapool_clip_taps(origin_x, p->dilation_w, p->kernel_w, p->in_w, &first_x, &end_x);
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *taps = filter + oc * p->kernel_h * p->kernel_w * filter_depth;
                    const int32_t channel0 = (oc / per_group) * filter_depth;
                    int32_t acc = 0;
                    for (ky = first_y; ky < end_y; ++ky) {
                        const int32_t in_y = origin_y + ky * p->dilation_h;
                        for (kx = first_x; kx < end_x; ++kx) {
                            const int32_t in_x = origin_x + kx * p->dilation_w;
                            const int8_t *pixel = image + (in_y * p->in_w + in_x) * p->in_c + channel0;
                            const int8_t *tap = taps + (ky * p->kernel_w + kx) * filter_depth;
                            for (ic = 0; ic < filter_depth; ++ic) {
                                acc += ((int32_t)pixel[ic] + p->input_offset) * tap[ic];
                            }
                        }
                    }
                    acc += bias[oc];
                    output[oc] = sapool_clamp_s8(sapool_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset,
                                                 p->act_min, p->act_max);
                }
                output += p->out_c;
            }
        }
    }
}
