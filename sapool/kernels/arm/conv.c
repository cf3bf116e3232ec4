/* conv.c (arm): int8 CONV_2D with ACLE SIMD, bit-exact twin of reference/conv.c (same folded bias, same scratch).
 *
 * The im2col product is a GEMM: output pixels x filter rows. In NHWC one kernel row of a window is
 * kernel_w * in_c contiguous input bytes (with dilation_w 1), so a pixel whose window lies inside the input is
 * read in place as kernel_h runs `row_step` apart; a 1x1 kernel is one run. Two such pixels side by side go
 * through 2x2 blocks (two pixels x two filter rows, sapool_dot_2x2), other pixels one at a time. A pixel touching
 * the padding is first gathered into `scratch` as in the portable kernel (taps outside hold the input zero point,
 * which the folded bias cancels) and read as the same runs back to back. Filters come in the pair-interleaved
 * order of sapool/backends/c/arm_layout.py (model.c holds it when built with SAPOOL_KERNELS_ARM).
 * The pixel routines are not inlined, to keep the stack of the call near the portable kernel's.
 */
#include <string.h>

#include "sapool_arm_dot.h"
#include "sapool_arm_gather.h"
#include "sapool_kernels.h"

/* One layer's constants as the pixel routines need them. */
typedef struct {
    const sapool_conv_params *p;
    const int8_t *filter;
    const int32_t *bias, *multiplier, *shift;
    sapool_output_stage stage;
    int32_t runs, run, patch_size; /* kernel_h runs of kernel_w * in_c bytes */
} conv_layer;

/* The requantised int8 output of channel `channel` (its parameters decoded here, once per use). */
static inline int8_t finish(const int32_t *multiplier, const int32_t *shift, const sapool_output_stage *stage,
                            int32_t acc, int32_t channel)
{
    return sapool_arm_output(acc, multiplier[channel], shift[channel], stage);
}

/* The odd last output channel of pixel `a` (its filter row in plain order). */
static __attribute__((noinline)) void last_channel(const conv_layer *layer, int32_t row_step, const int8_t *a,
                                                   int8_t *output)
{
    const int32_t oc = layer->p->out_c - 1;
    const int8_t *w = layer->filter + oc * layer->patch_size;
    int32_t acc = layer->bias[oc];
    int32_t r;
    for (r = 0; r < layer->runs; ++r, w += layer->run) {
        acc = sapool_dot_1x1(a + r * row_step, w, layer->run, acc);
    }
    output[oc] = finish(layer->multiplier, layer->shift, &layer->stage, acc, oc);
}

/* Pixels `a` and `b` (runs `row_step` apart) into out_a and out_b; `lean` (a constant where it is inlined) as
 * the layer's stage says. The layer's fields are copied into locals first: the int8 output stores may alias
 * anything, and GCC would otherwise reload every field after each. */
static inline __attribute__((always_inline)) void pixel_pair_run(const conv_layer *layer, int32_t row_step,
                                                                 const int8_t *a, const int8_t *b, int8_t *out_a,
                                                                 int8_t *out_b, int lean, int whole_runs)
{
    const int32_t pairs_end = layer->p->out_c & ~1;
    const int32_t runs = layer->runs;
    const int32_t run = layer->run;
    const int8_t *w = layer->filter;
    const int32_t *const bias = layer->bias;
    const int32_t *const multiplier = layer->multiplier;
    const int32_t *const shift = layer->shift;
    const sapool_output_stage stage = layer->stage;
    int32_t oc;
    int32_t r;
    for (oc = 0; oc < pairs_end; oc += 2) {
        int32_t acc[4] = {bias[oc], bias[oc + 1], bias[oc], bias[oc + 1]};
        if (whole_runs == 1) {
            w = sapool_dot_2x2_runs(a, b, w, run, runs, row_step, acc);
        } else if (whole_runs == 9) {
            w = sapool_dot_2x2_runs9(a, b, w, runs, row_step, acc);
        } else if (runs == 1) {
            w = sapool_dot_2x2(a, b, w, run, acc);
        } else {
            for (r = 0; r < runs; ++r) {
                w = sapool_dot_2x2(a + r * row_step, b + r * row_step, w, run, acc);
            }
        }
        {   /* all four before any store: an int8 store may alias the parameters, forcing their reload */
            const int32_t m0 = multiplier[oc], m1 = multiplier[oc + 1], code0 = shift[oc], code1 = shift[oc + 1];
            int8_t a0, a1, b0, b1;
            if (lean) {
                a0 = sapool_arm_output_lean(acc[0], m0, code0, stage.offset2p1);
                a1 = sapool_arm_output_lean(acc[1], m1, code1, stage.offset2p1);
                b0 = sapool_arm_output_lean(acc[2], m0, code0, stage.offset2p1);
                b1 = sapool_arm_output_lean(acc[3], m1, code1, stage.offset2p1);
            } else {
                a0 = sapool_arm_output(acc[0], m0, code0, &stage);
                a1 = sapool_arm_output(acc[1], m1, code1, &stage);
                b0 = sapool_arm_output(acc[2], m0, code0, &stage);
                b1 = sapool_arm_output(acc[3], m1, code1, &stage);
            }
            out_a[oc] = a0;
            out_a[oc + 1] = a1;
            out_b[oc] = b0;
            out_b[oc + 1] = b1;
        }
    }
}

static __attribute__((noinline, noclone)) void pixel_pair_lean(const conv_layer *layer, int32_t row_step, const int8_t *a,
                                                      const int8_t *b, int8_t *out_a, int8_t *out_b)
{
    pixel_pair_run(layer, row_step, a, b, out_a, out_b, 1, 0);
}

/* A lean layer's window read in place whose kernel rows are whole multiples of 16 bytes (weights word-aligned):
 * the loop over the rows runs inside the assembly (sapool_dot_2x2_runs); `whole_runs` 1 selects it, 9 the
 * 9-byte rows of a 3x3 window over three channels (sapool_dot_2x2_runs9), 0 neither. */
static __attribute__((noinline, noclone)) void pixel_pair_window_lean(const conv_layer *layer, int32_t row_step,
                                                                      const int8_t *a, const int8_t *b,
                                                                      int8_t *out_a, int8_t *out_b)
{
    pixel_pair_run(layer, row_step, a, b, out_a, out_b, 1, 1);
}

static __attribute__((noinline, noclone)) void pixel_pair_window9_lean(const conv_layer *layer, int32_t row_step,
                                                                       const int8_t *a, const int8_t *b,
                                                                       int8_t *out_a, int8_t *out_b)
{
    pixel_pair_run(layer, row_step, a, b, out_a, out_b, 1, 9);
}

static __attribute__((noinline, noclone)) void pixel_pair_general(const conv_layer *layer, int32_t row_step,
                                                         const int8_t *a, const int8_t *b, int8_t *out_a,
                                                         int8_t *out_b)
{
    pixel_pair_run(layer, row_step, a, b, out_a, out_b, 0, 0);
}

static inline void pixel_pair(const conv_layer *layer, int32_t row_step, const int8_t *a, const int8_t *b,
                              int8_t *out_a, int8_t *out_b)
{
    if (layer->stage.lean && layer->runs > 1 && layer->run % 16 == 0) {
        pixel_pair_window_lean(layer, row_step, a, b, out_a, out_b);
    } else if (layer->stage.lean && layer->runs > 1 && layer->run == 9) {
        pixel_pair_window9_lean(layer, row_step, a, b, out_a, out_b);
    } else if (layer->stage.lean) {
        pixel_pair_lean(layer, row_step, a, b, out_a, out_b);
    } else {
        pixel_pair_general(layer, row_step, a, b, out_a, out_b);
    }
}

/* Pixel `a` (`runs` runs of `run` bytes, `row_step` apart) into `output` (fields copied as in pixel_pair). */
static __attribute__((noinline)) void pixel_single(const conv_layer *layer, int32_t runs, int32_t run,
                                                   int32_t row_step, const int8_t *a, int8_t *output)
{
    const int32_t pairs_end = layer->p->out_c & ~1;
    const int8_t *w = layer->filter;
    const int32_t *const bias = layer->bias;
    const int32_t *const multiplier = layer->multiplier;
    const int32_t *const shift = layer->shift;
    const sapool_output_stage stage = layer->stage;
    int32_t oc;
    int32_t r;
    for (oc = 0; oc < pairs_end; oc += 2) {
        int32_t acc[2] = {bias[oc], bias[oc + 1]};
        for (r = 0; r < runs; ++r) {
            w = sapool_dot_1x2(a + r * row_step, w, run, acc);
        }
        {
            const int8_t first = finish(multiplier, shift, &stage, acc[0], oc);
            const int8_t second = finish(multiplier, shift, &stage, acc[1], oc + 1);
            output[oc] = first;
            output[oc + 1] = second;
        }
    }
}

/* Kernel rows of one to three whole words (a first layer with few input channels): every window, inside the
 * input or not, is gathered, two at a time into the two patches of `scratch`, and read as one run of patch_size
 * bytes (with whole-word runs the weights' per-row order is also the one-run order). Pixels pair in raster order
 * across rows: both windows are gathered before either output is written, so the in-place contract holds as for
 * pixels in order. */
static void gathered_pairs(const conv_layer *layer, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const sapool_conv_params *p = layer->p;
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t image_size = p->in_h * p->in_w * p->in_c;
    int8_t *const second = scratch + layer->patch_size;
    int32_t batch;
    int32_t n;
    for (batch = 0; batch < p->batches; ++batch, input += image_size) {
        for (n = 0; n + 2 <= pixels; n += 2, output += 2 * p->out_c) {
            const int32_t x1 = (n + 1) % p->out_w;
            const int32_t y1 = (n + 1) / p->out_w;
            const int32_t x0 = n % p->out_w;
            const int32_t y0 = n / p->out_w;
            sapool_arm_gather_window(p, input, y0 * p->stride_h - p->pad_top, x0 * p->stride_w - p->pad_left, scratch);
            sapool_arm_gather_window(p, input, y1 * p->stride_h - p->pad_top, x1 * p->stride_w - p->pad_left, second);
            pixel_pair(layer, 0, scratch, second, output, output + p->out_c);
            if (p->out_c & 1) {
                last_channel(layer, 0, scratch, output);
                last_channel(layer, 0, second, output + p->out_c);
            }
        }
        if (n < pixels) {
            sapool_arm_gather_window(p, input, (n / p->out_w) * p->stride_h - p->pad_top,
                         (n % p->out_w) * p->stride_w - p->pad_left, scratch);
            pixel_single(layer, 1, layer->patch_size, 0, scratch, output);
            if (p->out_c & 1) {
                last_channel(layer, 0, scratch, output);
            }
            output += p->out_c;
        }
    }
}

/* Pixels `a` and `b` of a pointwise layer with eight input channels and a lean stage (an early layer: its MACs
 * per output are few, so the per-output work dominates): both pixels' 16 input lanes are split once and stay in
 * registers for every output channel pair, whose interleaved rows are four aligned words (arm_layout: 4 bytes of
 * row 0, 4 of row 1, then the next 4 of each). */
static __attribute__((noinline)) void pointwise8_pair(const conv_layer *layer, const int8_t *a, const int8_t *b,
                                                      int8_t *out_a, int8_t *out_b)
{
    const int32_t pairs_end = layer->p->out_c & ~1;
    const int32_t *const bias = layer->bias;
    const int32_t *const multiplier = layer->multiplier;
    const int32_t *const shift = layer->shift;
    const int32_t offset2p1 = layer->stage.offset2p1;
    const int8_t *w = layer->filter;
    const int32_t a_lo = sapool_load4(a), a_hi = sapool_load4(a + 4), b_lo = sapool_load4(b), b_hi = sapool_load4(b + 4);
    const int32_t a0 = sapool_even(a_lo), a1 = sapool_odd(a_lo), a2 = sapool_even(a_hi), a3 = sapool_odd(a_hi);
    const int32_t b0 = sapool_even(b_lo), b1 = sapool_odd(b_lo), b2 = sapool_even(b_hi), b3 = sapool_odd(b_hi);
    int32_t oc;
    for (oc = 0; oc < pairs_end; oc += 2, w += 16) {
        const int32_t v_lo = sapool_load4(w), u_lo = sapool_load4(w + 4);
        const int32_t v_hi = sapool_load4(w + 8), u_hi = sapool_load4(w + 12);
        const int32_t v0 = sapool_even(v_lo), v1 = sapool_odd(v_lo), v2 = sapool_even(v_hi), v3 = sapool_odd(v_hi);
        const int32_t u0 = sapool_even(u_lo), u1 = sapool_odd(u_lo), u2 = sapool_even(u_hi), u3 = sapool_odd(u_hi);
        const int32_t acc_a0 = __smlad(a3, v3, __smlad(a2, v2, __smlad(a1, v1, __smlad(a0, v0, bias[oc]))));
        const int32_t acc_a1 = __smlad(a3, u3, __smlad(a2, u2, __smlad(a1, u1, __smlad(a0, u0, bias[oc + 1]))));
        const int32_t acc_b0 = __smlad(b3, v3, __smlad(b2, v2, __smlad(b1, v1, __smlad(b0, v0, bias[oc]))));
        const int32_t acc_b1 = __smlad(b3, u3, __smlad(b2, u2, __smlad(b1, u1, __smlad(b0, u0, bias[oc + 1]))));
        const int32_t m0 = multiplier[oc], m1 = multiplier[oc + 1], code0 = shift[oc], code1 = shift[oc + 1];
        const int8_t y_a0 = sapool_arm_output_lean(acc_a0, m0, code0, offset2p1);
        const int8_t y_a1 = sapool_arm_output_lean(acc_a1, m1, code1, offset2p1);
        const int8_t y_b0 = sapool_arm_output_lean(acc_b0, m0, code0, offset2p1);
        const int8_t y_b1 = sapool_arm_output_lean(acc_b1, m1, code1, offset2p1);
        out_a[oc] = y_a0;
        out_a[oc + 1] = y_a1;
        out_b[oc] = y_b0;
        out_b[oc + 1] = y_b1;
    }
}

/* A 1x1 kernel with stride 1 (no padding): every pixel of every image in a row, in pairs across image rows. */
static void pointwise(const conv_layer *layer, const int8_t *input, int8_t *output)
{
    const sapool_conv_params *p = layer->p;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    const int eight = p->in_c == 8 && layer->stage.lean;
    int32_t n;
    for (n = 0; n + 2 <= pixels; n += 2, input += 2 * p->in_c, output += 2 * p->out_c) {
        if (eight) {
            pointwise8_pair(layer, input, input + p->in_c, output, output + p->out_c);
        } else {
            pixel_pair(layer, 0, input, input + p->in_c, output, output + p->out_c);
        }
        if (p->out_c & 1) {
            last_channel(layer, 0, input, output);
            last_channel(layer, 0, input + p->in_c, output + p->out_c);
        }
    }
    if (n < pixels) {
        pixel_single(layer, 1, p->in_c, 0, input, output);
        if (p->out_c & 1) {
            last_channel(layer, 0, input, output);
        }
    }
}

/* One or two windows gathered (the second, when `second` is not 0, into the scratch's second patch) and read
 * as the per-kernel-row runs of the weight order, back to back: one run when the runs are whole words. */
static void gathered(const conv_layer *layer, int8_t *first, int8_t *second, int8_t *out_first, int8_t *out_second)
{
    const int32_t run = layer->run;
    const int whole_words = run % 4 == 0;
    const conv_layer patches = {layer->p, layer->filter, layer->bias, layer->multiplier, layer->shift,
                                layer->stage, whole_words ? 1 : layer->runs,
                                whole_words ? layer->patch_size : run, layer->patch_size};
    if (second != 0) {
        pixel_pair(&patches, patches.run, first, second, out_first, out_second);
    } else {
        pixel_single(&patches, patches.runs, patches.run, patches.run, first, out_first);
    }
    if (layer->p->out_c & 1) {
        last_channel(&patches, patches.run, first, out_first);
        if (second != 0) {
            last_channel(&patches, patches.run, second, out_second);
        }
    }
}

void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch)
{
    const int32_t run = p->kernel_w * p->in_c;
    const int32_t patch_size = p->kernel_h * run;
    const conv_layer layer = {p, filter, bias, multiplier, shift,
                              sapool_output_stage_of(p->output_offset, p->act_min, p->act_max,
                                                     sapool_requant_fits(bias, shift, p->out_c, patch_size)),
                              p->kernel_h, run, patch_size};
    const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
    const int32_t pixel_step = p->stride_w * p->in_c;
    const int32_t window_w = (p->kernel_w - 1) * p->dilation_w + 1;
    const int32_t window_h = (p->kernel_h - 1) * p->dilation_h + 1;
    /* the scratch holds two patches: border pixels are gathered in pairs */
    const int two_patches = sapool_conv_gathers_pairs(p->kernel_h, p->kernel_w, p->in_c);
    /* windows read in place need dilation_w 1 */
    const int in_place = p->dilation_w == 1;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    if (p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1) {
        pointwise(&layer, input, output);
        return;
    }
    if (two_patches && run % 4 == 0 && p->kernel_h > 1) {
        /* kernel rows of one to three words cost more per run than the MACs they carry: all windows gathered */
        const conv_layer whole = {p, filter, bias, multiplier, shift, layer.stage, 1, patch_size, patch_size};
        gathered_pairs(&whole, input, output, scratch);
        return;
    }
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            const int rows_inside = in_place && y0 >= 0 && y0 + window_h <= p->in_h;
            for (out_x = 0; out_x < p->out_w;) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                const int inside = rows_inside && x0 >= 0 && x0 + window_w <= p->in_w;
                if (inside && out_x + 1 < p->out_w && x0 + p->stride_w + window_w <= p->in_w) {
                    const int8_t *window = image + (y0 * p->in_w + x0) * p->in_c;
                    pixel_pair(&layer, row_step, window, window + pixel_step, output, output + p->out_c);
                    if (p->out_c & 1) {
                        last_channel(&layer, row_step, window, output);
                        last_channel(&layer, row_step, window + pixel_step, output + p->out_c);
                    }
                    out_x += 2;
                    output += 2 * p->out_c;
                    continue;
                }
                if (inside) {
                    pixel_single(&layer, layer.runs, run, row_step, image + (y0 * p->in_w + x0) * p->in_c, output);
                    if (p->out_c & 1) {
                        last_channel(&layer, row_step, image + (y0 * p->in_w + x0) * p->in_c, output);
                    }
                } else if (two_patches && out_x + 1 < p->out_w) {
                    sapool_arm_gather_window(p, image, y0, x0, scratch);
                    sapool_arm_gather_window(p, image, y0, x0 + p->stride_w, scratch + patch_size);
                    gathered(&layer, scratch, scratch + patch_size, output, output + p->out_c);
                    out_x += 2;
                    output += 2 * p->out_c;
                    continue;
                } else {
                    sapool_arm_gather_window(p, image, y0, x0, scratch);
                    gathered(&layer, scratch, 0, output, 0);
                }
                out_x += 1;
                output += p->out_c;
            }
        }
    }
}
