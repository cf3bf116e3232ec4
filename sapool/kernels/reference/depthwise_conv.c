/* depthwise_conv.c: int8 DEPTHWISE_CONV_2D, bit-exact with TFLite's reference_integer_ops::DepthwiseConvPerChannel.
 *
 * Output channel oc = ic * depth_multiplier + m reads input channel ic; filter is [1, kh, kw, out_c]. Taps outside
 * the input are skipped and (input + input_offset) is accumulated as TFLite does; the windows are small, so
 * folding the offset (which would need per-border sums) is not worth a scratch buffer here.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                                int8_t *output)
{
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    int32_t acc = bias[oc];
                    for (ky = 0; ky < p->kernel_h; ++ky) {
                        const int32_t in_y = y0 + ky * p->dilation_h;
                        if (in_y < 0 || in_y >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->kernel_w; ++kx) {
                            const int32_t in_x = x0 + kx * p->dilation_w;
                            if (in_x < 0 || in_x >= p->in_w) {
                                continue;
                            }
                            acc += ((int32_t)image[(in_y * p->in_w + in_x) * p->in_c + ic] + p->input_offset)
                                   * (int32_t)filter[(ky * p->kernel_w + kx) * p->out_c + oc];
                        }
                    }
                    acc = sapool_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset;
                    *output++ = sapool_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
