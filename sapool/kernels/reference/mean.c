/* mean.c: int8 MEAN over any set of axes, bit-exact with TFLite's reference QuantizedMeanOrSum.
 *
 * TFLite sums the int8 values in int32, subtracts zero_point · count, and requantises with the input/output scale
 * ratio whose multiplier has 1/count folded in (computed at compile time, see ops/mean.py). The axes arrive as
 * up to 3 kept and 3 reduced dimensions with their input strides (adjacent axes merged at compile time).
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int32_t window_sum(const sapool_mean_params *p, const int8_t *input)
{
    int32_t r0, r1, r2;
    int32_t sum = 0;
    for (r0 = 0; r0 < p->reduced_dims[0]; ++r0) {
        for (r1 = 0; r1 < p->reduced_dims[1]; ++r1) {
            const int8_t *row = input + r0 * p->reduced_strides[0] + r1 * p->reduced_strides[1];
            for (r2 = 0; r2 < p->reduced_dims[2]; ++r2) {
                sum += row[r2 * p->reduced_strides[2]];
            }
        }
    }
    return sum;
}

int8_t sapool_mean_of_sum(const sapool_mean_params *p, int32_t sum)
{
    const int32_t centred = sum - p->input_zero_point * p->count;
    const int32_t scaled = sapool_requantize(centred, p->multiplier, p->shift);
    return sapool_clamp_s8(scaled + p->output_zero_point, -128, 127);
}

void sapool_mean_s8(const sapool_mean_params *p, const int8_t *input, int8_t *output)
{
    int32_t k0, k1, k2;
    for (k0 = 0; k0 < p->kept_dims[0]; ++k0) {
        for (k1 = 0; k1 < p->kept_dims[1]; ++k1) {
            for (k2 = 0; k2 < p->kept_dims[2]; ++k2) {
                const int32_t offset = k0 * p->kept_strides[0] + k1 * p->kept_strides[1] + k2 * p->kept_strides[2];
                *output++ = sapool_mean_of_sum(p, window_sum(p, input + offset));
            }
        }
    }
}
