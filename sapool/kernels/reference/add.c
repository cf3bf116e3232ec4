/* add.c: int8 ADD, bit-exact with TFLite's reference_integer_ops::Add.
 *
 * Both inputs are shifted left by left_shift (20 for int8), rescaled to a common scale (twice the larger input
 * scale), added, and the sum is rescaled to the output scale; all multipliers come from QuantizeMultiplier.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_add_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t shifted1 = ((int32_t)input1[i] + p->input1_offset) * ((int32_t)1 << p->left_shift);
        const int32_t shifted2 = ((int32_t)input2[i] + p->input2_offset) * ((int32_t)1 << p->left_shift);
        const int32_t scaled1 = sapool_requantize(shifted1, p->input1_multiplier, p->input1_shift);
        const int32_t scaled2 = sapool_requantize(shifted2, p->input2_multiplier, p->input2_shift);
        const int32_t sum = sapool_requantize(scaled1 + scaled2, p->output_multiplier, p->output_shift);
        output[i] = sapool_clamp_s8(sum + p->output_offset, p->act_min, p->act_max);
    }
}
