/* concatenation.c: int8 CONCATENATION (all operands share the output's scale and zero point, as TFLite's int8
 * kernel requires): for each of `outer` slices, each input contributes one contiguous chunk of its own size. */
#include <string.h>

#include "sapool_kernels.h"

void sapool_concatenation_s8(int32_t outer, int32_t count, const int8_t *const *inputs, const int32_t *chunks,
                             int8_t *output)
{
    int32_t slice;
    int32_t i;
    for (slice = 0; slice < outer; ++slice) {
        for (i = 0; i < count; ++i) {
            memcpy(output, inputs[i] + slice * chunks[i], (size_t)chunks[i]);
            output += chunks[i];
        }
    }
}
