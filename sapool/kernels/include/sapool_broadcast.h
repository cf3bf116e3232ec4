/* sapool_broadcast.h: the walk over a broadcast shape that the two-operand elementwise kernels share.
 *
 * Shapes arrive collapsed to 6 dimensions at compile time (sapool_broadcast_shape); an operand's stride is 0 along
 * a dimension it broadcasts, so one walk over the output serves every broadcasting pattern: the first five
 * dimensions pick each operand's start, and one row call per innermost run does the arithmetic.
 */
#ifndef SAPOOL_BROADCAST_H
#define SAPOOL_BROADCAST_H

#include "sapool_kernels.h"

typedef void (*sapool_row_function)(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b,
                                    int32_t b_stride, int8_t *output, int32_t count);

static inline void sapool_broadcast_rows(const sapool_broadcast_shape *s, const void *params, const int8_t *a,
                                         const int8_t *b, int8_t *output, sapool_row_function row)
{
    int32_t i0, i1, i2, i3, i4;
    for (i0 = 0; i0 < s->dims[0]; ++i0) {
        for (i1 = 0; i1 < s->dims[1]; ++i1) {
            for (i2 = 0; i2 < s->dims[2]; ++i2) {
                for (i3 = 0; i3 < s->dims[3]; ++i3) {
                    for (i4 = 0; i4 < s->dims[4]; ++i4) {
                        const int32_t a_offset = i0 * s->a_strides[0] + i1 * s->a_strides[1] +
                                                 i2 * s->a_strides[2] + i3 * s->a_strides[3] + i4 * s->a_strides[4];
                        const int32_t b_offset = i0 * s->b_strides[0] + i1 * s->b_strides[1] +
                                                 i2 * s->b_strides[2] + i3 * s->b_strides[3] + i4 * s->b_strides[4];
                        row(params, a + a_offset, s->a_strides[5], b + b_offset, s->b_strides[5], output,
                            s->dims[5]);
                        output += s->dims[5];
                    }
                }
            }
        }
    }
}

#endif /* SAPOOL_BROADCAST_H */
