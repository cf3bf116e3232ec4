/* quantize.c: QUANTIZE float32 -> int8, TFLite's AffineQuantize; QUANTIZE int16 <-> int8, TFLite's Requantize.
 *
 * q = x / scale in float32 (TFLite divides in float; a double division or a multiplication by 1/scale rounds
 * differently next to ties), rounded half away from zero, plus the zero point, clamped to int8. Rounding is done
 * without libm: truncation and the float remainder, which is exact. Quotients beyond ±512 saturate before
 * rounding (any zero point then clamps them to 127 or -128; TFLite's own int32 cast is undefined beyond ±2^31,
 * where x86 gives -128 even for +inf), and NaN becomes the zero point.
 */
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int32_t round_half_away(float q)
{
    int32_t whole = (int32_t)q; /* truncates towards zero; |q| <= 512 here */
    float remainder = q - (float)whole;
    if (remainder >= 0.5f) {
        ++whole;
    } else if (remainder <= -0.5f) {
        --whole;
    }
    return whole;
}

void sapool_quantize_f32_s8(int32_t size, float scale, int32_t zero_point, const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        float q = input[i] / scale;
        int32_t value;
        if (q != q) { /* NaN */
            value = zero_point;
        } else if (q > 512.0f) {
            value = 127;
        } else if (q < -512.0f) {
            value = -128;
        } else {
            value = round_half_away(q) + zero_point;
        }
        output[i] = (int8_t)(value < -128 ? -128 : (value > 127 ? 127 : value));
    }
}

void sapool_requantize_s16_s8(int32_t size, int32_t multiplier, int32_t shift, int32_t input_zero_point,
                              int32_t output_zero_point, const int16_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t value = sapool_requantize((int32_t)input[i] - input_zero_point, multiplier, shift) +
                              output_zero_point;
        output[i] = (int8_t)(value < -128 ? -128 : (value > 127 ? 127 : value));
    }
}

void sapool_requantize_s8_s16(int32_t size, int32_t multiplier, int32_t shift, int32_t input_zero_point,
                              int32_t output_zero_point, const int8_t *input, int16_t *output)
{
    int32_t i;
    for (i = size - 1; i >= 0; --i) { /* backwards: never in place, but the wider output must not matter */
        const int32_t value = sapool_requantize((int32_t)input[i] - input_zero_point, multiplier, shift) +
                              output_zero_point;
        output[i] = (int16_t)(value < -32768 ? -32768 : (value > 32767 ? 32767 : value));
    }
}
