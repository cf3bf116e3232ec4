/* patch.c: moving patches in and out of the patch buffers of a patch-based stage (CUSTOM:SAPOOL_PATCH_STAGE).
 *
 * The kernels read and write whole NHWC images; a stage runs them on one patch at a time, so the patch of the
 * stage input is first copied into a patch buffer, and the last op's output tile is then copied into its place
 * in the stage output. Both are the same strided copy of one run of cols * depth contiguous bytes per row; the
 * loop is kept rolled (it moves a few KB per inference, next to millions of MACs, and -O3 -funroll-loops would
 * grow it eightfold).
 */
#include <string.h>

#include "sapool_kernels.h"

void sapool_copy_rows_s8(const int8_t *from, int32_t from_stride, int8_t *to, int32_t to_stride, int32_t rows,
                         int32_t run)
{
    int32_t y;
#pragma GCC unroll 1
    for (y = 0; y < rows; ++y) {
        memcpy(to + (size_t)y * (size_t)to_stride, from + (size_t)y * (size_t)from_stride, (size_t)run);
    }
}
