/* resize_nearest.c: int8 RESIZE_NEAREST_NEIGHBOR. TFLite picks each output row's and column's source with
 * float arithmetic that depends only on the sizes and the align_corners/half_pixel_centers options; sapool
 * evaluates it at compile time into `rows` and `cols`, so the kernel only copies pixels. */
#include <string.h>

#include "sapool_kernels.h"

void sapool_resize_nearest_s8(const sapool_resize_params *p, const int32_t *rows, const int32_t *cols,
                              const int8_t *input, int8_t *output)
{
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->depth;
        for (y = 0; y < p->out_h; ++y) {
            const int8_t *row = image + rows[y] * p->in_w * p->depth;
            for (x = 0; x < p->out_w; ++x) {
                memcpy(output, row + cols[x] * p->depth, (size_t)p->depth);
                output += p->depth;
            }
        }
    }
}
