/* maximum.c: int8 MAXIMUM and MINIMUM with TFLite's broadcasting (reference_ops::MaximumMinimumBroadcastSlow):
 * the raw int8 values are compared; operands and result share one quantisation. */
#include "sapool_broadcast.h"
#include "sapool_kernels.h"

static const int32_t keep_larger = 1, keep_smaller = 0;

/* `params` points to keep_larger or keep_smaller. */
static void extremum_row(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b, int32_t b_stride,
                         int8_t *output, int32_t count)
{
    const int32_t larger = *(const int32_t *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int8_t x = a[i * a_stride], y = b[i * b_stride];
        output[i] = (x > y) == larger ? x : y;
    }
}

void sapool_maximum_s8(const sapool_broadcast_shape *shape, const int8_t *input1, const int8_t *input2,
                       int8_t *output)
{
    sapool_broadcast_rows(shape, &keep_larger, input1, input2, output, extremum_row);
}

void sapool_minimum_s8(const sapool_broadcast_shape *shape, const int8_t *input1, const int8_t *input2,
                       int8_t *output)
{
    sapool_broadcast_rows(shape, &keep_smaller, input1, input2, output, extremum_row);
}
