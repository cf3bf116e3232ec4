/* grouped_conv.c: CONV_2D with groups > 1 (filter depth = input depth / groups, not depthwise).
 *
 * TFLite's reference ConvPerChannel: output channel oc belongs to group oc / (out_c / groups) and reads input
 * channels [group * filter_depth, (group + 1) * filter_depth); taps outside the input are skipped. As in conv.c,
 * each output pixel gathers one group's receptive field at a time into `scratch` (kernel_h * kernel_w *
 * filter_depth bytes), taps outside the input holding the input zero point, so the input offset is folded into
 * `bias` at compile time and every output channel of the group is a plain int8 dot product with that patch.
 * Requantise with double rounding, add the output zero point, clamp. Output pixels in row order, each written
 * after its patches are gathered, so the kernel keeps CONV_2D's in-place contract (docs/adding_an_op.md).
 */
#include <string.h>

#include "sapool_kernels.h"
#include "sapool_quant.h"

static void gather_group(const sapool_conv_params *p, const int8_t *image, int32_t origin_y, int32_t origin_x,
                         int32_t channel0, int32_t depth, int8_t *patch)
{
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t ky, kx;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t in_y = origin_y + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t in_x = origin_x + kx * p->dilation_w;
            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w) {
                memset(patch, zero_point, (size_t)depth);
            } else {
                memcpy(patch, image + (in_y * p->in_w + in_x) * p->in_c + channel0, (size_t)depth);
            }
            patch += depth;
        }
    }
}

void sapool_grouped_conv2d_s8(const sapool_conv_params *p, int32_t groups, const int8_t *input,
                              const int8_t *filter, const int32_t *bias, const int32_t *multiplier,
                              const int32_t *shift, int8_t *output, int8_t *scratch)
{
    const int32_t depth = p->in_c / groups, per_group = p->out_c / groups;
    const int32_t patch_size = p->kernel_h * p->kernel_w * depth;
    const int32_t output_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
    int32_t batch, out_y, out_x, group, oc, k;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                for (group = 0; group < groups; ++group) {
                    gather_group(p, image, out_y * p->stride_h - p->pad_top, out_x * p->stride_w - p->pad_left,
                                 group * depth, depth, scratch);
                    for (oc = group * per_group; oc < (group + 1) * per_group; ++oc) {
                        const int8_t *row = filter + oc * patch_size;
                        int32_t acc = bias[oc];
                        for (k = 0; k < patch_size; ++k) {
                            acc += (int32_t)scratch[k] * row[k];
                        }
                        output[oc] = sapool_clamp_s8(sapool_requantize(acc, multiplier[oc], shift[oc]) + output_offset,
                                                     act_min, act_max);
                    }
                }
                output += p->out_c;
            }
        }
    }
}
