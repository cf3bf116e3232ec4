/* fully_connected.c: int8 FULLY_CONNECTED, bit-exact with TFLite's reference_integer_ops::FullyConnected.
 *
 * TFLite accumulates weight * (input + input_offset); the input_offset * sum(weight row) part is folded into the
 * bias at compile time (weights are symmetric int8, so they carry no offset of their own).
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int8_t finish(const sapool_fc_params *p, int32_t acc, const int32_t *multiplier, const int32_t *shift,
                     int32_t o)
{
    const int32_t q = p->per_channel ? o : 0;
    return sapool_clamp_s8(sapool_requantize_single(acc, multiplier[q], shift[q]) + p->output_offset,
                           p->act_min, p->act_max);
}

void sapool_fully_connected_s8(const sapool_fc_params *p, const int8_t *input, const int8_t *weights,
                               const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                               int8_t *output)
{
    const int32_t n = p->in_features;
    int32_t batch;
    int32_t o;
    int32_t i;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *vector = input + batch * n;
        /* four output units share each input load */
        for (o = 0; o + 4 <= p->out_features; o += 4) {
            const int8_t *row0 = weights + o * n;
            const int8_t *row1 = row0 + n;
            const int8_t *row2 = row1 + n;
            const int8_t *row3 = row2 + n;
            int32_t acc0 = bias[o];
            int32_t acc1 = bias[o + 1];
            int32_t acc2 = bias[o + 2];
            int32_t acc3 = bias[o + 3];
            for (i = 0; i < n; ++i) {
                const int32_t x = vector[i];
                acc0 += x * row0[i];
                acc1 += x * row1[i];
                acc2 += x * row2[i];
                acc3 += x * row3[i];
            }
            output[o] = finish(p, acc0, multiplier, shift, o);
            output[o + 1] = finish(p, acc1, multiplier, shift, o + 1);
            output[o + 2] = finish(p, acc2, multiplier, shift, o + 2);
            output[o + 3] = finish(p, acc3, multiplier, shift, o + 3);
        }
        for (; o < p->out_features; ++o) {
            const int8_t *row = weights + o * n;
            int32_t acc = bias[o];
            for (i = 0; i < n; ++i) {
                acc += (int32_t)vector[i] * row[i];
            }
            output[o] = finish(p, acc, multiplier, shift, o);
        }
        output += p->out_features;
    }
}
