/* fully_connected.c (arm): int8 FULLY_CONNECTED with ACLE SIMD, bit-exact twin of reference/fully_connected.c.
 *
 * Two output units per pass, their weight rows pair-interleaved (sapool/backends/c/arm_layout.py), so one pointer
 * walks both; two batch rows share each weight load when there are two (sapool_dot_2x2), a lone row takes
 * four units at a time where their rows are word-aligned (sapool_dot_1x4), else sapool_dot_1x2. The bias is folded as in the portable kernel; requantisation is TFLite's single rounding.
 */
#include "sapool_arm_dot.h"
#include "sapool_kernels.h"

static inline int8_t finish(const sapool_fc_params *p, int32_t acc, const int32_t *multiplier, const int32_t *shift,
                            int32_t unit)
{
    const int32_t q = p->per_channel ? unit : 0;
    return sapool_clamp_s8(sapool_requantize_single(acc, multiplier[q], shift[q]) + p->output_offset,
                           p->act_min, p->act_max);
}

/* Input rows `a` and `b` (b may be a when there is one row; its outputs are then not stored). */
static void rows(const sapool_fc_params *p, const int8_t *a, const int8_t *b, const int8_t *weights,
                 const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *out_a, int8_t *out_b)
{
    const int32_t n = p->in_features;
    const int32_t units = p->out_features;
    int32_t o;
    for (o = 0; o + 2 <= units; o += 2) {
        const int8_t *w = weights + o * n;
        if (out_b != 0) {
            int32_t acc[4] = {bias[o], bias[o + 1], bias[o], bias[o + 1]};
            sapool_dot_2x2(a, b, w, n, acc);
            out_b[o] = finish(p, acc[2], multiplier, shift, o);
            out_b[o + 1] = finish(p, acc[3], multiplier, shift, o + 1);
            out_a[o] = finish(p, acc[0], multiplier, shift, o);
            out_a[o + 1] = finish(p, acc[1], multiplier, shift, o + 1);
        } else if (o + 4 <= units && ((uintptr_t)w & 3) == 0 && (n & 1) == 0) {
            /* two pairs of units (both word-aligned: a pair is 2n bytes) share each input word */
            int32_t acc[4] = {bias[o], bias[o + 1], bias[o + 2], bias[o + 3]};
            sapool_dot_1x4(a, w, w + 2 * n, n, acc);
            out_a[o] = finish(p, acc[0], multiplier, shift, o);
            out_a[o + 1] = finish(p, acc[1], multiplier, shift, o + 1);
            out_a[o + 2] = finish(p, acc[2], multiplier, shift, o + 2);
            out_a[o + 3] = finish(p, acc[3], multiplier, shift, o + 3);
            o += 2;
        } else {
            int32_t acc[2] = {bias[o], bias[o + 1]};
            sapool_dot_1x2(a, w, n, acc);
            out_a[o] = finish(p, acc[0], multiplier, shift, o);
            out_a[o + 1] = finish(p, acc[1], multiplier, shift, o + 1);
        }
    }
    if (o < units) { /* an odd last unit: its row keeps the plain order */
        const int8_t *w = weights + o * n;
        out_a[o] = finish(p, sapool_dot_1x1(a, w, n, bias[o]), multiplier, shift, o);
        if (out_b != 0) {
            out_b[o] = finish(p, sapool_dot_1x1(b, w, n, bias[o]), multiplier, shift, o);
        }
    }
}

void sapool_fully_connected_s8(const sapool_fc_params *p, const int8_t *input, const int8_t *weights,
                               const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                               int8_t *output)
{
    const int32_t n = p->in_features;
    const int32_t units = p->out_features;
    int32_t batch;
    for (batch = 0; batch + 2 <= p->batches; batch += 2, input += 2 * n, output += 2 * units) {
        rows(p, input, input + n, weights, bias, multiplier, shift, output, output + units);
    }
    if (batch < p->batches) {
        rows(p, input, input, weights, bias, multiplier, shift, output, 0);
    }
}
