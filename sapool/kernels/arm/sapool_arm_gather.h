/* sapool_arm_gather.h: one convolution window copied into scratch, taps outside the input holding the input zero
 * point, for the arm CONV_2D paths that read a gathered window instead of the image (first layers, borders).
 * Static functions: one translation unit (conv.c) includes it. */
#ifndef SAPOOL_ARM_GATHER_H
#define SAPOOL_ARM_GATHER_H

#include <string.h>

#include "sapool_arm.h"
#include "sapool_kernels.h"

/* n bytes from src to dst, a word at a time (the runs are short: newlib-nano's memcpy goes byte by byte). Not
 * inlined: sapool_arm_gather_window has five call sites, and unrolled copies of both loops in each cost 2 KB of code. */
static __attribute__((noinline)) void sapool_arm_copy_run(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t word = sapool_load4(src + k);
        memcpy(dst + k, &word, sizeof word);
    }
    for (; k < n; ++k) {
        dst[k] = src[k];
    }
}

/* n bytes of the input zero point (`fill`: it in all four bytes) at dst (not inlined either). */
static __attribute__((noinline)) void sapool_arm_fill_run(int8_t *dst, int32_t fill, int32_t n)
{
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        memcpy(dst + k, &fill, sizeof fill);
    }
    for (; k < n; ++k) {
        dst[k] = (int8_t)fill;
    }
}

/* The window at (y0, x0) into `patch` (kernel_h * kernel_w * in_c bytes), taps outside the input holding the
 * input zero point. With dilation_w 1 a kernel row is one copy between two fills. */
static void sapool_arm_gather_window(const sapool_conv_params *p, const int8_t *image, int32_t y0, int32_t x0, int8_t *patch)
{
    const int32_t fill = (int32_t)((uint32_t)(uint8_t)(-p->input_offset) * 0x01010101u);
    const int32_t run = p->kernel_w * p->in_c;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->kernel_h; ++ky, patch += run) {
        const int32_t in_y = y0 + ky * p->dilation_h;
        if (in_y < 0 || in_y >= p->in_h) {
            sapool_arm_fill_run(patch, fill, run);
        } else if (p->dilation_w == 1) {
            /* [first, end): the taps inside the input (the window may not reach it at all) */
            const int32_t first = x0 >= 0 ? 0 : (-x0 < p->kernel_w ? -x0 : p->kernel_w);
            const int32_t inside_end = p->in_w - x0 < p->kernel_w ? p->in_w - x0 : p->kernel_w;
            const int32_t end = inside_end > first ? inside_end : first;
            sapool_arm_fill_run(patch, fill, first * p->in_c);
            sapool_arm_copy_run(patch + first * p->in_c, image + (in_y * p->in_w + x0 + first) * p->in_c,
                     (end - first) * p->in_c);
            sapool_arm_fill_run(patch + end * p->in_c, fill, (p->kernel_w - end) * p->in_c);
        } else {
            for (kx = 0; kx < p->kernel_w; ++kx) {
                const int32_t in_x = x0 + kx * p->dilation_w;
                if (in_x < 0 || in_x >= p->in_w) {
                    sapool_arm_fill_run(patch + kx * p->in_c, fill, p->in_c);
                } else {
                    sapool_arm_copy_run(patch + kx * p->in_c, image + (in_y * p->in_w + in_x) * p->in_c, p->in_c);
                }
            }
        }
    }
}

#endif /* SAPOOL_ARM_GATHER_H */
