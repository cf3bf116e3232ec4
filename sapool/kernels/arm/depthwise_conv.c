/* depthwise_conv.c (arm): int8 DEPTHWISE_CONV_2D with ACLE SIMD, bit-exact twin of reference/depthwise_conv.c.
 *
 * Depth multiplier 1 (what MCU CNNs use): four channels per pass. Per tap one word of input (NHWC, the four
 * channels side by side) and one of weights, which come channel-grouped (sapool/backends/c/arm_layout.py: a
 * group's taps back to back, read at fixed offsets); __sxtb16 splits each word into channels (0, 2) and (1, 3)
 * and __smlabb / __smlatt multiply-accumulate the bottom and top lanes, one channel each. Interior pixels take the
 * folded bias, and a 3x3 window is a fixed, unrolled sequence of taps; border pixels take the plain bias over the
 * taps inside the input, with the input offset added to both lanes at once (__sadd16: int8 + offset fits int16).
 * Channels past the last group of four, and other depth multipliers, take a one-channel loop.
 */
#include "sapool_arm.h"
#include "sapool_kernels.h"

/* The window's taps [ky_first, ky_end) x [kx_first, kx_end) inside the input. */
typedef struct {
    int32_t ky_first, ky_end, kx_first, kx_end;
} tap_range;

/* One tap of four channels: acc[k] += x[k] * w[k] (x already offset when `offsets` is not 0). */
static inline __attribute__((always_inline)) void mac4(int32_t x, int32_t w, int32_t offsets, int32_t acc[4])
{
    int32_t x_even = sapool_even(x);
    int32_t x_odd = sapool_odd(x);
    const int32_t w_even = sapool_even(w);
    const int32_t w_odd = sapool_odd(w);
    if (offsets != 0) {
        x_even = __sadd16(x_even, offsets);
        x_odd = __sadd16(x_odd, offsets);
    }
    acc[0] = __smlabb(x_even, w_even, acc[0]);
    acc[2] = __smlatt(x_even, w_even, acc[2]);
    acc[1] = __smlabb(x_odd, w_odd, acc[1]);
    acc[3] = __smlatt(x_odd, w_odd, acc[3]);
}

/* Four channels' int8 outputs. `lean` (a constant where it is inlined): the layer's requantisation is fast and
 * its clamp is int8's, so each output is sapool_requantize_offset and one ssat, with no per-output test. */
static inline __attribute__((always_inline)) void store4(const int32_t acc[4], const int32_t *multiplier,
                                                         const int32_t *shift, const sapool_output_stage *stage,
                                                         int lean, int8_t *output)
{
    int32_t k;
    for (k = 0; k < 4; ++k) {
        output[k] = lean ? sapool_arm_output_lean(acc[k], multiplier[k], shift[k], stage->offset2p1)
                         : sapool_arm_output(acc[k], multiplier[k], shift[k], stage);
    }
}

/* One layer's constants, built once per call and passed by pointer (few arguments keep the frames small). */
typedef struct {
    const sapool_conv_params *p;
    const int8_t *filter;
    const int32_t *bias, *folded_bias, *multiplier, *shift;
    sapool_output_stage interior, border;
    int32_t row_step, tap_step;
    int32_t vector_end;         /* channels in groups of four (0 for depth multipliers other than 1) */
    const int8_t *tail_weights; /* weight of tap t, channel c >= vector_end: tail_weights[t * tail_stride + c] */
    int32_t tail_stride;
} dw_layer;

/* One tap of four channels in assembly: the input word at ADDRESS and the next weight word, split into the
 * channels (0, 2) and (1, 3) and multiplied into the four accumulators (10 instructions per 4 MACs). */
#define SAPOOL_DW_TAP(ADDRESS)                                                                                    \
    "ldr %[x], " ADDRESS "\n\t"                                                                                   \
    "ldr %[v], [%[w]], #4\n\t"                                                                                    \
    "sxtb16 %[x_even], %[x]\n\t"                                                                                  \
    "sxtb16 %[x], %[x], ror #8\n\t"                                                                               \
    "sxtb16 %[v_even], %[v]\n\t"                                                                                  \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                                               \
    "smlabb %[a0], %[x_even], %[v_even], %[a0]\n\t"                                                               \
    "smlatt %[a2], %[x_even], %[v_even], %[a2]\n\t"                                                               \
    "smlabb %[a1], %[x], %[v], %[a1]\n\t"                                                                         \
    "smlatt %[a3], %[x], %[v], %[a3]\n\t"
#define SAPOOL_DW_ROW                                                                                             \
    SAPOOL_DW_TAP("[%[p]]") SAPOOL_DW_TAP("[%[p], %[tap]]") SAPOOL_DW_TAP("[%[p], %[tap], lsl #1]")                  \
    "add %[p], %[p], %[row]\n\t"

/* The operands of the 3x3 taps; the arguments add inputs (the gathered patch as memory, for border_3x3_lean). */
#define SAPOOL_DW_3X3(...)                                                                                       \
    __asm__(SAPOOL_DW_ROW SAPOOL_DW_ROW SAPOOL_DW_ROW                                                             \
            : [p] "+r"(p), [w] "+r"(w), [a0] "+r"(acc[0]), [a1] "+r"(acc[1]), [a2] "+r"(acc[2]),                 \
              [a3] "+r"(acc[3]), [x] "=&r"(x), [x_even] "=&r"(x_even), [v] "=&r"(v), [v_even] "=&r"(v_even)       \
            : [tap] "r"(tap_step), [row] "r"(row_step) __VA_ARGS__                      \
            : "cc")

/* acc[k] += the 3x3 window's taps of channel k (four channels side by side at `p`, taps `tap_step` apart in a
 * row and rows `row_step` apart) times the group's nine weight words at `w`. Written out in assembly: the 12
 * registers it needs (4 accumulators, 4 pointers and steps, 4 temporaries) leave GCC no room, and its own
 * schedule spilled; 92 instructions per 36 MACs. Reads only inputs and weights, which the kernel never writes
 * (no memory clobber). */
static inline __attribute__((always_inline)) void taps_3x3(const int8_t *p, const int8_t *w, int32_t tap_step,
                                                           int32_t row_step, int32_t acc[4])
{
    int32_t x;
    int32_t x_even;
    int32_t v;
    int32_t v_even;
    SAPOOL_DW_3X3();
}

/* taps_3x3 over nine words gathered into `patch` (taps 4 bytes and rows 12 apart), declared as read. */
static inline __attribute__((always_inline)) void patch_taps_3x3(const int32_t patch[9], const int8_t *w,
                                                                 int32_t acc[4])
{
    const int8_t *p = (const int8_t *)patch;
    const int32_t tap_step = 4;
    const int32_t row_step = 12;
    int32_t x;
    int32_t x_even;
    int32_t v;
    int32_t v_even;
    SAPOOL_DW_3X3(, "m"(*(const int32_t(*)[9])patch));
}

/* `count` interior pixels side by side under a 3x3 window, every channel group, folded bias; `window` is the
 * first pixel's first tap. One call per run of interior pixels keeps the per-pixel bookkeeping out of the way;
 * `lean` as in store4. */
static inline __attribute__((always_inline)) void interior_3x3_run(const dw_layer *layer, const int8_t *window,
                                                                   int32_t count, int8_t *output, int lean)
{
    const int32_t pixel_step = layer->p->stride_w * layer->p->in_c;
    const int32_t out_c = layer->p->out_c;
    const int32_t tap_step = layer->tap_step;
    const int32_t row_step = layer->row_step;
    const int32_t vector_end = layer->vector_end;
    const int8_t *const filter = layer->filter;
    const int32_t *const bias = layer->folded_bias;
    const int32_t *const multiplier = layer->multiplier;
    const int32_t *const shift = layer->shift;
    const sapool_output_stage out = layer->interior;
    int32_t c;
    for (; count > 0; --count, window += pixel_step, output += out_c) {
        for (c = 0; c < vector_end; c += 4) {
            int32_t acc[4] = {bias[c], bias[c + 1], bias[c + 2], bias[c + 3]};
            taps_3x3(window + c, filter + c * 9, tap_step, row_step, acc);
            store4(acc, multiplier + c, shift + c, &out, lean, output + c);
        }
    }
}

static __attribute__((noinline)) void interior_3x3_lean(const dw_layer *layer, const int8_t *window, int32_t count,
                                                        int8_t *output)
{
    interior_3x3_run(layer, window, count, output, 1);
}

static __attribute__((noinline)) void interior_3x3(const dw_layer *layer, const int8_t *window, int32_t count,
                                                   int8_t *output)
{
    interior_3x3_run(layer, window, count, output, 0);
}

/* A pixel whose 3x3 window crosses the border, through the interior path (layers with a lean stage; the others
 * take `clipped`): each group's nine input words are gathered into a patch, taps outside the input holding the
 * input zero point in all four bytes. With the folded bias (bias + input_offset * sum of the taps) a zero-point tap
 * adds (zero point + input_offset) * w = 0, so the sum equals TFLite's over the taps inside. (y0, x0) is the
 * window's first tap in `image`; taps [ky_first, ky_end) x [kx_first, kx_end) lie inside. */
static __attribute__((noinline)) void border_3x3_lean(const dw_layer *layer, const int8_t *image, int32_t y0,
                                                      int32_t x0, const tap_range *taps, int8_t *output)
{
    const sapool_conv_params *p = layer->p;
    const int32_t zero_word = (int32_t)((uint32_t)(uint8_t)(-p->input_offset) * 0x01010101u);
    const int32_t vector_end = layer->vector_end;
    int32_t patch[9];   /* taps outside: the zero point, written once; taps inside: reloaded per group */
    int32_t where[9];   /* the inside taps' patch words */
    int32_t offsets[9]; /* ... and their byte offsets in image */
    int32_t inside = 0;
    int32_t ky;
    int32_t kx;
    int32_t i;
    int32_t c;
    for (ky = 0; ky < 3; ++ky) {
        for (kx = 0; kx < 3; ++kx) {
            if (ky >= taps->ky_first && ky < taps->ky_end && kx >= taps->kx_first && kx < taps->kx_end) {
                where[inside] = ky * 3 + kx;
                offsets[inside] = ((y0 + ky * p->dilation_h) * p->in_w + x0 + kx * p->dilation_w) * p->in_c;
                ++inside;
            } else {
                patch[ky * 3 + kx] = zero_word;
            }
        }
    }
    for (c = 0; c < vector_end; c += 4) {
        int32_t acc[4] = {layer->folded_bias[c], layer->folded_bias[c + 1], layer->folded_bias[c + 2],
                          layer->folded_bias[c + 3]};
        for (i = 0; i < inside; ++i) {
            patch[where[i]] = sapool_load4(image + offsets[i] + c);
        }
        patch_taps_3x3(patch, layer->filter + c * 9, acc);
        store4(acc, layer->multiplier + c, layer->shift + c, &layer->interior, 1, output + c);
    }
}

/* Every channel group of a pixel over the taps `taps` inside the input, `window` pointing at the first of them:
 * interior pixels (other window sizes) with the folded bias, border ones with the plain bias and input offset. */
static __attribute__((noinline)) void clipped(const dw_layer *layer, const int8_t *window, const tap_range *taps,
                                              int inside, int8_t *output)
{
    /* locals, not layer->...: the int8 output stores may alias anything, and would force reloads */
    const int32_t offset = inside ? 0 : layer->p->input_offset;
    const int32_t offsets = (int32_t)(((uint32_t)offset << 16) | ((uint32_t)offset & 0xFFFFu));
    const int32_t kernel_w = layer->p->kernel_w;
    const int32_t group_taps = layer->p->kernel_h * kernel_w * 4;
    const int32_t row_step = layer->row_step;
    const int32_t tap_step = layer->tap_step;
    const int32_t vector_end = layer->vector_end;
    const tap_range range = *taps;
    const int8_t *const filter = layer->filter;
    const int32_t *const bias = inside ? layer->folded_bias : layer->bias;
    const int32_t *const multiplier = layer->multiplier;
    const int32_t *const shift = layer->shift;
    const sapool_output_stage out = inside ? layer->interior : layer->border;
    int32_t c;
    for (c = 0; c < vector_end; c += 4) {
        const int8_t *row = window + c;
        int32_t acc[4] = {bias[c], bias[c + 1], bias[c + 2], bias[c + 3]};
        int32_t ky;
        int32_t kx;
        for (ky = range.ky_first; ky < range.ky_end; ++ky, row += row_step) {
            const int8_t *tap = row;
            const int8_t *w = filter + (c / 4) * group_taps + (ky * kernel_w + range.kx_first) * 4;
            for (kx = range.kx_first; kx < range.kx_end; ++kx, tap += tap_step, w += 4) {
                mac4(sapool_load4(tap), sapool_load4(w), offsets, acc);
            }
        }
        store4(acc, multiplier + c, shift + c, &out, 0, output + c);
    }
}

/* The channels past vector_end one by one (output channel oc reads input channel oc / depth_multiplier). */
static __attribute__((noinline)) void single_channels(const dw_layer *layer, const int8_t *window,
                                                      const tap_range *taps, int inside, int8_t *output)
{
    const sapool_conv_params *p = layer->p;
    const int32_t offset = inside ? 0 : p->input_offset;
    const int32_t *const bias = inside ? layer->folded_bias : layer->bias;
    const sapool_output_stage *stage = inside ? &layer->interior : &layer->border;
    int32_t oc;
    for (oc = layer->vector_end; oc < p->out_c; ++oc) {
        const int8_t *row = window + oc / p->depth_multiplier;
        int32_t acc = bias[oc];
        int32_t ky;
        int32_t kx;
        for (ky = taps->ky_first; ky < taps->ky_end; ++ky, row += layer->row_step) {
            const int8_t *tap = row;
            for (kx = taps->kx_first; kx < taps->kx_end; ++kx, tap += layer->tap_step) {
                acc += ((int32_t)*tap + offset) * layer->tail_weights[(ky * p->kernel_w + kx) * layer->tail_stride
                                                                       + oc];
            }
        }
        output[oc] = sapool_arm_output(acc, layer->multiplier[oc], layer->shift[oc], stage);
    }
}

static __attribute__((noinline)) int layer_fits(const int32_t *bias, const int32_t *shift, int32_t channels,
                                                int32_t taps)
{
    return sapool_requant_fits(bias, shift, channels, taps);
}

void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *folded_bias, const int32_t *multiplier,
                                const int32_t *shift, int8_t *output)
{
    const int32_t window_taps = p->kernel_h * p->kernel_w;
    /* depth multiplier 1: groups of four, then the tail (grouped order); otherwise every channel alone (plain) */
    const int32_t vector_end = p->depth_multiplier == 1 ? p->out_c & ~3 : 0;
    const dw_layer layer = {
        p, filter, bias, folded_bias, multiplier, shift,
        sapool_output_stage_of(p->output_offset, p->act_min, p->act_max,
                               layer_fits(folded_bias, shift, p->out_c, window_taps)),
        sapool_output_stage_of(p->output_offset, p->act_min, p->act_max, layer_fits(bias, shift, p->out_c, window_taps)),
        p->dilation_h * p->in_w * p->in_c, p->dilation_w * p->in_c,
        vector_end, filter + vector_end * window_taps - vector_end, p->out_c - vector_end,
    };
    const int full_3x3 = p->kernel_h == 3 && p->kernel_w == 3;
    const int lean = layer.interior.lean;
    const int32_t window_w = 2 * p->dilation_w + 1;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->in_c;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            const int32_t y0 = out_y * p->stride_h - p->pad_top;
            tap_range taps;
            sapool_clip_taps(y0, p->dilation_h, p->kernel_h, p->in_h, &taps.ky_first, &taps.ky_end);
            for (out_x = 0; out_x < p->out_w; ++out_x, output += p->out_c) {
                const int32_t x0 = out_x * p->stride_w - p->pad_left;
                const int8_t *window;
                int inside;
                sapool_clip_taps(x0, p->dilation_w, p->kernel_w, p->in_w, &taps.kx_first, &taps.kx_end);
                window = image + ((y0 + taps.ky_first * p->dilation_h) * p->in_w + x0
                                  + taps.kx_first * p->dilation_w) * p->in_c;
                inside = taps.ky_end - taps.ky_first == p->kernel_h && taps.kx_end - taps.kx_first == p->kernel_w;
                if (inside && full_3x3 && vector_end == p->out_c) {
                    /* this pixel and the interior ones after it on the row */
                    int32_t count = 1;
                    while (out_x + count < p->out_w
                           && (out_x + count) * p->stride_w - p->pad_left + window_w <= p->in_w) {
                        ++count;
                    }
                    if (lean) {
                        interior_3x3_lean(&layer, window, count, output);
                    } else {
                        interior_3x3(&layer, window, count, output);
                    }
                    out_x += count - 1;
                    output += (count - 1) * p->out_c;
                    continue;
                }
                if (full_3x3 && vector_end == p->out_c && lean) {
                    border_3x3_lean(&layer, image, y0, x0, &taps, output);
                    continue;
                }
                if (vector_end > 0) {
                    clipped(&layer, window, &taps, inside, output);
                }
                if (vector_end < p->out_c) {
                    single_channels(&layer, window, &taps, inside, output);
                }
            }
        }
    }
}
