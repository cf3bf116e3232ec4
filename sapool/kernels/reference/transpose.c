/* transpose.c: TRANSPOSE of a 1-byte tensor. The output is written in order; `in_strides[d]` is the input
 * stride of output dimension d (the permutation applied at compile time, dimensions merged where the
 * permutation keeps them adjacent, extended to 6-D with leading ones). */
#include "sapool_kernels.h"

void sapool_transpose_s8(const sapool_transpose_params *p, const int8_t *input, int8_t *output)
{
    const int32_t count = p->out_dims[5], step = p->in_strides[5]; /* locals: output stores may alias *p */
    int32_t i0, i1, i2, i3, i4, i5;
    for (i0 = 0; i0 < p->out_dims[0]; ++i0) {
        for (i1 = 0; i1 < p->out_dims[1]; ++i1) {
            for (i2 = 0; i2 < p->out_dims[2]; ++i2) {
                for (i3 = 0; i3 < p->out_dims[3]; ++i3) {
                    for (i4 = 0; i4 < p->out_dims[4]; ++i4) {
                        const int8_t *row = input + i0 * p->in_strides[0] + i1 * p->in_strides[1] +
                                            i2 * p->in_strides[2] + i3 * p->in_strides[3] + i4 * p->in_strides[4];
                        for (i5 = 0; i5 < count; ++i5) {
                            *output++ = row[i5 * step];
                        }
                    }
                }
            }
        }
    }
}
