/* lookup.c: int8 ops that are a function of one int8 value, as a 256-entry table.
 *
 * TFLite's int8 LOGISTIC and TANH (reference resolver included) evaluate exactly such a table, filled in Prepare
 * from float expf/tanhf; sapool fills the same table at compile time, so the kernel needs no libm. QUANTIZE
 * (int8 → int8 requantisation) is tabulated the same way from TFLite's integer Requantize, and DEQUANTIZE
 * (int8 → float32) as a table of the 256 floats TFLite computes, so no float arithmetic runs here either.
 */
#include "sapool_kernels.h"

void sapool_lookup_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}

void sapool_lookup_s8_f32(int32_t size, const float *table, const int8_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
