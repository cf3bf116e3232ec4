/* fully_connected.c: int8 FULLY_CONNECTED, bit-exact with TFLite's reference_integer_ops::FullyConnected.
 *
 * TFLite accumulates weight * (input + input_offset); the input_offset * sum(weight row) part is folded into the
 * bias at compile time (weights are symmetric int8, so they carry no offset of their own).
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_fully_connected_s8(const sapool_fc_params *p, const int8_t *input, const int8_t *weights,
                               const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                               int8_t *output)
{
    int32_t batch;
    int32_t o;
    int32_t i;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *vector = input + batch * p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const int8_t *row = weights + o * p->in_features;
            const int32_t q = p->per_channel ? o : 0;
            int32_t acc = bias[o];
            for (i = 0; i < p->in_features; ++i) {
                acc += (int32_t)vector[i] * (int32_t)row[i];
            }
            acc = sapool_requantize_single(acc, multiplier[q], shift[q]) + p->output_offset;
            *output++ = sapool_clamp_s8(acc, p->act_min, p->act_max);
        }
    }
}
