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

void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch)
{
    const int32_t patch_size = p->kernel_h * p->kernel_w * p->in_c;
    const int pointwise = p->kernel_h == 1 && p->kernel_w == 1;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t oc;
    int32_t k;
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
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *row = filter + oc * patch_size;
                    int32_t acc = bias[oc];
                    for (k = 0; k < patch_size; ++k) {
                        acc += (int32_t)patch[k] * (int32_t)row[k];
                    }
                    acc = sapool_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset;
                    *output++ = sapool_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
