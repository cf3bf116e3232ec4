/* pad.c: int8 PAD and PADV2: the output is filled with the pad value (PAD: the output zero point, as TFLite pads;
 * PADV2: its constant operand), then each innermost input row is copied to its place. Shapes are extended to 6-D with
 * leading ones at compile time. */
#include <string.h>

#include "sapool_kernels.h"

void sapool_pad_s8(const sapool_pad_params *p, const int8_t *input, int8_t *output)
{
    int32_t out_strides[6];
    int32_t i0, i1, i2, i3, i4;
    int32_t d;
    int32_t total = 1;
    for (d = 5; d >= 0; --d) {
        out_strides[d] = total;
        total *= p->out_dims[d];
    }
    memset(output, p->pad_value, (size_t)total);
    for (i0 = 0; i0 < p->in_dims[0]; ++i0) {
        for (i1 = 0; i1 < p->in_dims[1]; ++i1) {
            for (i2 = 0; i2 < p->in_dims[2]; ++i2) {
                for (i3 = 0; i3 < p->in_dims[3]; ++i3) {
                    for (i4 = 0; i4 < p->in_dims[4]; ++i4) {
                        const int32_t offset = (i0 + p->before[0]) * out_strides[0] +
                                               (i1 + p->before[1]) * out_strides[1] +
                                               (i2 + p->before[2]) * out_strides[2] +
                                               (i3 + p->before[3]) * out_strides[3] +
                                               (i4 + p->before[4]) * out_strides[4] + p->before[5];
                        memcpy(output + offset, input, (size_t)p->in_dims[5]);
                        input += p->in_dims[5];
                    }
                }
            }
        }
    }
}
