/* patch.c: moving patches in and out of the patch buffers of a patch-based stage (CUSTOM:SAPOOL_PATCH_STAGE).
 *
 * The kernels read and write whole NHWC images; a stage runs them on one patch at a time, so the patch of the
 * stage input is first copied into a patch buffer, and the last op's output tile is then copied into its place
 * in the stage output. Both copies move one run of cols * depth contiguous bytes per row.
 */
#include <string.h>

#include "sapool_kernels.h"

void sapool_copy_window_s8(const int8_t *image, int32_t image_w, int32_t depth, int32_t y0, int32_t x0,
                           int32_t rows, int32_t cols, int8_t *patch)
{
    const size_t run = (size_t)(cols * depth);
    int32_t y;
    for (y = 0; y < rows; ++y) {
        memcpy(patch + (size_t)y * run, image + ((size_t)(y0 + y) * image_w + x0) * depth, run);
    }
}

void sapool_paste_tile_s8(const int8_t *tile, int32_t rows, int32_t cols, int32_t depth, int32_t y0, int32_t x0,
                          int32_t image_w, int8_t *image)
{
    const size_t run = (size_t)(cols * depth);
    int32_t y;
    for (y = 0; y < rows; ++y) {
        memcpy(image + ((size_t)(y0 + y) * image_w + x0) * depth, tile + (size_t)y * run, run);
    }
}
