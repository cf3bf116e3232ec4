/* conv.c (arm): int8 CONV_2D with ACLE SIMD, bit-exact twin of reference/conv.c (same folded bias, same scratch).
 *
 * The im2col product is a GEMM: output pixels x filter rows. Pixels whose receptive field lies inside the input
 * are read in place: in NHWC one window row is kernel_w * in_c contiguous bytes (dilation_w 1), so a pixel is
 * kernel_h runs of that length, `row_step` apart, and a 1x1 kernel is one run. Two such pixels side by side go
 * through the 2x2 block (two pixels x two filter rows, sapool_dot_2x2), everything else one pixel at a time; a
 * pixel touching the padding is first gathered into `scratch` as in the portable kernel (taps outside hold the
 * input zero point, which the folded bias cancels), then it is one run of kernel_h * kernel_w * in_c bytes.
 * Requantisation parameters are decoded once per output channel pair, outside the dot products.
 */
#include <string.h>

#include "sapool_arm.h"
#include "sapool_kernels.h"

/* Where a pixel's receptive field is: `runs` runs of `run` bytes, `row_step` apart (the filter row is the same
 * runs back to back). */
typedef struct {
    int32_t runs, run, row_step;
} window_runs;

static void gather_patch(const sapool_conv_params *p, const int8_t *image, int32_t y0, int32_t x0, int8_t *patch)
{
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t in_y = y0 + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t in_x = x0 + kx * p->dilation_w;
            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w) {
                memset(patch, zero_point, (size_t)p->in_c);
            } else {
                memcpy(patch, image + (in_y * p->in_w + in_x) * p->in_c, (size_t)p->in_c);
            }
            patch += p->in_c;
        }
    }
}

/* Two pixels (`a`, and `b` at the same offsets further on) into out_a and out_b, two output channels per pass
 * (an odd channel count computes the last channel twice and stores it once). */
static void pixel_pair(const sapool_conv_params *p, const sapool_output_stage *stage, const window_runs *w,
                       const int8_t *a, const int8_t *b, const int8_t *filter, const int32_t *bias,
                       const int32_t *multiplier, const int32_t *shift, int8_t *out_a, int8_t *out_b)
{
    const int32_t patch_size = w->runs * w->run;
    int32_t oc;
    int32_t r;
    for (oc = 0; oc < p->out_c; oc += 2) {
        const int32_t oc1 = oc + 1 < p->out_c ? oc + 1 : oc;
        const int8_t *row0 = filter + oc * patch_size;
        const int8_t *row1 = filter + oc1 * patch_size;
        const sapool_requant q0 = sapool_requant_of(multiplier[oc], shift[oc]);
        const sapool_requant q1 = sapool_requant_of(multiplier[oc1], shift[oc1]);
        int32_t acc[4] = {bias[oc], bias[oc1], bias[oc], bias[oc1]};
        for (r = 0; r < w->runs; ++r) {
            sapool_dot_2x2(a + r * w->row_step, b + r * w->row_step, row0 + r * w->run, row1 + r * w->run, w->run,
                           acc);
        }
        out_a[oc1] = sapool_arm_output(acc[1], &q1, stage);
        out_b[oc1] = sapool_arm_output(acc[3], &q1, stage);
        out_a[oc] = sapool_arm_output(acc[0], &q0, stage);
        out_b[oc] = sapool_arm_output(acc[2], &q0, stage);
    }
}

/* One pixel, two output channels per pass. */
static void pixel_single(const sapool_conv_params *p, const sapool_output_stage *stage, const window_runs *w,
                         const int8_t *a, const int8_t *filter, const int32_t *bias, const int32_t *multiplier,
                         const int32_t *shift, int8_t *output)
{
    const int32_t patch_size = w->runs * w->run;
    int32_t oc;
    int32_t r;
    for (oc = 0; oc < p->out_c; oc += 2) {
        const int32_t oc1 = oc + 1 < p->out_c ? oc + 1 : oc;
        const int8_t *row0 = filter + oc * patch_size;
        const int8_t *row1 = filter + oc1 * patch_size;
        const sapool_requant q0 = sapool_requant_of(multiplier[oc], shift[oc]);
        const sapool_requant q1 = sapool_requant_of(multiplier[oc1], shift[oc1]);
        int32_t acc[2] = {bias[oc], bias[oc1]};
        for (r = 0; r < w->runs; ++r) {
            sapool_dot_1x2(a + r * w->row_step, row0 + r * w->run, row1 + r * w->run, w->run, acc);
        }
        output[oc1] = sapool_arm_output(acc[1], &q1, stage);
        output[oc] = sapool_arm_output(acc[0], &q0, stage);
    }
}

void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch)
{
    const int32_t patch_size = p->kernel_h * p->kernel_w * p->in_c;
    const window_runs in_place = {p->kernel_h, p->kernel_w * p->in_c, p->dilation_h * p->in_w * p->in_c};
    const window_runs gathered = {1, patch_size, 0};
    const sapool_output_stage stage = {p->output_offset, p->act_min, p->act_max,
                                       sapool_requant_fits(bias, shift, p->out_c, patch_size)};
    const int32_t pixel_step = p->stride_w * p->in_c;
    const int32_t window_w = (p->kernel_w - 1) * p->dilation_w + 1;
    const int32_t window_h = (p->kernel_h - 1) * p->dilation_h + 1;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            const int rows_inside = p->dilation_w == 1 && y0 >= 0 && y0 + window_h <= p->in_h;
            for (out_x = 0; out_x < p->out_w;) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                const int inside = rows_inside && x0 >= 0 && x0 + window_w <= p->in_w;
                if (inside && out_x + 1 < p->out_w && x0 + p->stride_w + window_w <= p->in_w) {
                    const int8_t *window = image + (y0 * p->in_w + x0) * p->in_c;
                    pixel_pair(p, &stage, &in_place, window, window + pixel_step, filter, bias, multiplier, shift,
                               output, output + p->out_c);
                    out_x += 2;
                    output += 2 * p->out_c;
                    continue;
                }
                if (inside) {
                    pixel_single(p, &stage, &in_place, image + (y0 * p->in_w + x0) * p->in_c, filter, bias,
                                 multiplier, shift, output);
                } else {
                    gather_patch(p, image, y0, x0, scratch);
                    pixel_single(p, &stage, &gathered, scratch, filter, bias, multiplier, shift, output);
                }
                out_x += 1;
                output += p->out_c;
            }
        }
    }
}
