/* pool.c: int8 AVERAGE_POOL_2D and MAX_POOL_2D, bit-exact with TFLite's reference_integer_ops pooling.
 *
 * Windows are clipped to the input (padding is never counted); the average divides by the number of taps
 * inside the input, rounding half away from zero with integer division, as TFLite does.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_average_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output)
{
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t c;
    int32_t y;
    int32_t x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->channels;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const sapool_pool_window w = sapool_pool_clip_window(p, out_y, out_x);
                const int32_t count = (w.y_end - w.y_start) * (w.x_end - w.x_start);
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            acc += image[(y * p->in_w + x) * p->channels + c];
                        }
                    }
                    *output++ = sapool_pool_average(acc, count, p);
                }
            }
        }
    }
}

void sapool_max_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output)
{
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t c;
    int32_t y;
    int32_t x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * p->in_w * p->channels;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x) {
                const sapool_pool_window w = sapool_pool_clip_window(p, out_y, out_x);
                for (c = 0; c < p->channels; ++c) {
                    int32_t best = -128;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            const int32_t value = image[(y * p->in_w + x) * p->channels + c];
                            best = value > best ? value : best;
                        }
                    }
                    *output++ = sapool_clamp_s8(best, p->act_min, p->act_max);
                }
            }
        }
    }
}
