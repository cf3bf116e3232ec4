/* conv.c: int8 CONV_2D, bit-exact with TFLite's reference_integer_ops::ConvPerChannel.
 *
 * TFLite accumulates filter * (input + input_offset) over the taps inside the input. Here every output pixel
 * first gathers its receptive field into a patch (im2col) in which taps outside the input hold the input zero
 * point, so that (tap + input_offset) is 0 there; the input_offset term is then a per-channel constant folded
 * into the bias at compile time and the inner loop is a plain int8 dot product. Integer sums are exact, so the
 * accumulator equals TFLite's. A 1x1 kernel never pads (SAME and VALID agree) and reads its input pixel in place.
 */
#include <string.h>

#include "sapool_kernels.h"
#include "sapool_quant.h"

static void gather_patch(const sapool_conv_params *p, const int8_t *image, int32_t out_y, int32_t out_x,
                         int8_t *patch)
{
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t in_y = out_y * p->stride_h - p->pad_top + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t in_x = out_x * p->stride_w - p->pad_left + kx * p->dilation_w;
            int8_t *tap = patch + (ky * p->kernel_w + kx) * p->in_c;
            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w) {
                memset(tap, zero_point, (size_t)p->in_c);
            } else {
                memcpy(tap, image + (in_y * p->in_w + in_x) * p->in_c, (size_t)p->in_c);
            }
        }
    }
}

/* One output pixel: `patch` (patch_size bytes) against every filter row. Four output channels share each patch
 * load, which is most of the speed a portable C kernel can get; the tail takes the remaining channels one by one. */
static void pixel_dot(const sapool_conv_params *p, const int8_t *patch, int32_t patch_size, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    int32_t oc = 0;
    int32_t k;
    for (; oc + 4 <= p->out_c; oc += 4) {
        const int8_t *row0 = filter + oc * patch_size;
        const int8_t *row1 = row0 + patch_size;
        const int8_t *row2 = row1 + patch_size;
        const int8_t *row3 = row2 + patch_size;
        int32_t acc0 = bias[oc];
        int32_t acc1 = bias[oc + 1];
        int32_t acc2 = bias[oc + 2];
        int32_t acc3 = bias[oc + 3];
        for (k = 0; k < patch_size; ++k) {
            const int32_t x = patch[k];
            acc0 += x * row0[k];
            acc1 += x * row1[k];
            acc2 += x * row2[k];
            acc3 += x * row3[k];
        }
        output[oc] = sapool_clamp_s8(sapool_requantize(acc0, multiplier[oc], shift[oc]) + p->output_offset,
                                     p->act_min, p->act_max);
        output[oc + 1] = sapool_clamp_s8(sapool_requantize(acc1, multiplier[oc + 1], shift[oc + 1])
                                         + p->output_offset, p->act_min, p->act_max);
        output[oc + 2] = sapool_clamp_s8(sapool_requantize(acc2, multiplier[oc + 2], shift[oc + 2])
                                         + p->output_offset, p->act_min, p->act_max);
        output[oc + 3] = sapool_clamp_s8(sapool_requantize(acc3, multiplier[oc + 3], shift[oc + 3])
                                         + p->output_offset, p->act_min, p->act_max);
    }
    for (; oc < p->out_c; ++oc) {
        const int8_t *row = filter + oc * patch_size;
        int32_t acc = bias[oc];
        for (k = 0; k < patch_size; ++k) {
            acc += (int32_t)patch[k] * row[k];
        }
        output[oc] = sapool_clamp_s8(sapool_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset,
                                     p->act_min, p->act_max);
    }
}

void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch)
{
    const int32_t patch_size = p->kernel_h * p->kernel_w * p->in_c;
    const int pointwise = p->kernel_h == 1 && p->kernel_w == 1;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const int8_t *patch;
                if (pointwise) {
                    patch = image + ((out_y * p->stride_h) * p->in_w + out_x * p->stride_w) * p->in_c;
                } else {
                    gather_patch(p, image, out_y, out_x, scratch);
                    patch = scratch;
                }
                pixel_dot(p, patch, patch_size, filter, bias, multiplier, shift, output);
                output += p->out_c;
            }
        }
    }
}
