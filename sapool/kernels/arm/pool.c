/* pool.c (arm): int8 AVERAGE_POOL_2D and MAX_POOL_2D with ACLE SIMD, bit-exact twin of reference/pool.c.
 *
 * Four channels per pass, one input word per tap. AVERAGE: `sxtab16` adds the sign-extended bytes 0 and 2 (and,
 * on the word rotated by 8, bytes 1 and 3) of a word to two 16-bit sums at once; a window of at most 256 taps
 * keeps every sum within int16 (|sum| <= 128 * 256), larger windows take the one-channel loop. The rounding
 * division is the portable kernel's. MAX: `ssub8` sets each byte's GE flag where the tap is at least the running
 * maximum and `sel` takes those bytes, four channels in two instructions. Channels past the last group of four
 * take the one-channel loops.
 */
#include "sapool_arm.h"
#include "sapool_kernels.h"

/* halves += sign-extended bytes 1 and 3 of `word` (sxtab16 with its operand rotated by 8). */
static inline int32_t add_odd_bytes(int32_t halves, int32_t word)
{
    int32_t sum;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(sum) : "r"(halves), "r"(word));
    return sum;
}

/* The lower and upper signed 16-bit halves of a word. */
static inline int32_t low_half(int32_t halves)
{
    return (int16_t)(halves & 0xFFFF);
}

static inline int32_t high_half(int32_t halves)
{
    return halves >> 16;
}

/* The bytewise signed maximum of two words: ssub8's GE flag per byte (a >= b) picks the bytes of `a` in sel.
 * One statement: the flags pass between the two instructions, which GCC does not track across intrinsics. */
static inline int32_t byte_max(int32_t a, int32_t b)
{
    int32_t difference;
    int32_t most;
    __asm__("ssub8 %[difference], %[a], %[b]\n\t"
            "sel %[most], %[a], %[b]"
            : [difference] "=&r"(difference), [most] "=r"(most)
            : [a] "r"(a), [b] "r"(b)
            : "cc");
    return most;
}

void sapool_average_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t row_step = p->in_w * p->channels;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t c;
    int32_t y;
    int32_t x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * row_step;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x, output += p->channels) {
                const sapool_pool_window w = sapool_pool_clip_window(p, out_y, out_x);
                const int32_t count = (w.y_end - w.y_start) * (w.x_end - w.x_start);
                const int32_t vector_end = count <= 256 ? p->channels & ~3 : 0;
                const int8_t *corner = image + w.y_start * row_step + w.x_start * p->channels;
                for (c = 0; c < vector_end; c += 4) {
                    int32_t even = 0; /* channels c and c + 2 */
                    int32_t odd = 0;  /* channels c + 1 and c + 3 */
                    const int8_t *row = corner + c;
                    for (y = w.y_start; y < w.y_end; ++y, row += row_step) {
                        const int8_t *tap = row;
                        for (x = w.x_start; x < w.x_end; ++x, tap += p->channels) {
                            const int32_t word = sapool_load4(tap);
                            even = __sxtab16(even, word);
                            odd = add_odd_bytes(odd, word);
                        }
                    }
                    {
                        const int8_t a0 = sapool_pool_average(low_half(even), count, p);
                        const int8_t a1 = sapool_pool_average(low_half(odd), count, p);
                        const int8_t a2 = sapool_pool_average(high_half(even), count, p);
                        const int8_t a3 = sapool_pool_average(high_half(odd), count, p);
                        output[c] = a0;
                        output[c + 1] = a1;
                        output[c + 2] = a2;
                        output[c + 3] = a3;
                    }
                }
                for (; c < p->channels; ++c) {
                    int32_t sum = 0;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            sum += image[y * row_step + x * p->channels + c];
                        }
                    }
                    output[c] = sapool_pool_average(sum, count, p);
                }
            }
        }
    }
}

void sapool_max_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t row_step = p->in_w * p->channels;
    const int32_t vector_end = p->channels & ~3;
    int32_t batch;
    int32_t out_y;
    int32_t out_x;
    int32_t c;
    int32_t y;
    int32_t x;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->in_h * row_step;
        for (out_y = 0; out_y < p->out_h; ++out_y) {
            for (out_x = 0; out_x < p->out_w; ++out_x, output += p->channels) {
                const sapool_pool_window w = sapool_pool_clip_window(p, out_y, out_x);
                const int8_t *corner = image + w.y_start * row_step + w.x_start * p->channels;
                for (c = 0; c < vector_end; c += 4) {
                    int32_t best = (int32_t)0x80808080u; /* -128 in every byte */
                    const int8_t *row = corner + c;
                    int32_t k;
                    for (y = w.y_start; y < w.y_end; ++y, row += row_step) {
                        const int8_t *tap = row;
                        for (x = w.x_start; x < w.x_end; ++x, tap += p->channels) {
                            best = byte_max(sapool_load4(tap), best);
                        }
                    }
                    for (k = 0; k < 4; ++k) {
                        output[c + k] = sapool_clamp_s8((int8_t)(best >> (8 * k)), p->act_min, p->act_max);
                    }
                }
                for (; c < p->channels; ++c) {
                    int32_t most = -128;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            const int32_t value = image[y * row_step + x * p->channels + c];
                            most = value > most ? value : most;
                        }
                    }
                    output[c] = sapool_clamp_s8(most, p->act_min, p->act_max);
                }
            }
        }
    }
}
