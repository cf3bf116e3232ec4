/* elementwise.c: int8 ADD, SUB and MUL with TFLite's broadcasting, bit-exact with its reference kernels
 * (reference_integer_ops::Add/BroadcastAdd6DSlow, reference_ops::BroadcastQuantSubSlow, reference_integer_ops::
 * BroadcastMul6DSlow).
 *
 * ADD and SUB shift both operands left by left_shift (20), rescale each to twice the larger input scale, add or
 * subtract, and rescale the result to the output scale. MUL multiplies the offset operands and rescales once.
 * Shapes arrive collapsed to 6 dimensions at compile time; an operand's stride is 0 along a dimension it
 * broadcasts, so one walk over the output serves every broadcasting pattern, one row call per innermost run.
 */
#include "sapool_broadcast.h"
#include "sapool_kernels.h"
#include "sapool_quant.h"

static int32_t rescaled_operand(int8_t value, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return sapool_requantize(((int32_t)value + offset) * ((int32_t)1 << left_shift), multiplier, shift);
}

/* ADD (sign 1) and SUB (sign -1) of one run. The parameters are copied to locals: stores through the int8 output
 * may alias them, which would otherwise reload every field on every element. */
static void add_or_sub_row(const sapool_add_params *p, int32_t sign, const int8_t *a, int32_t a_stride,
                           const int8_t *b, int32_t b_stride, int8_t *output, int32_t count)
{
    const int32_t left_shift = p->left_shift;
    const int32_t offset1 = p->input1_offset, multiplier1 = p->input1_multiplier, shift1 = p->input1_shift;
    const int32_t offset2 = p->input2_offset, multiplier2 = p->input2_multiplier, shift2 = p->input2_shift;
    const int32_t output_offset = p->output_offset, output_multiplier = p->output_multiplier;
    const int32_t output_shift = p->output_shift, act_min = p->act_min, act_max = p->act_max;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t x = rescaled_operand(a[i * a_stride], offset1, left_shift, multiplier1, shift1);
        const int32_t y = rescaled_operand(b[i * b_stride], offset2, left_shift, multiplier2, shift2);
        const int32_t result = sapool_requantize(sign > 0 ? x + y : x - y, output_multiplier, output_shift);
        output[i] = sapool_clamp_s8(result + output_offset, act_min, act_max);
    }
}

static void add_row(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b, int32_t b_stride,
                    int8_t *output, int32_t count)
{
    add_or_sub_row((const sapool_add_params *)params, 1, a, a_stride, b, b_stride, output, count);
}

static void sub_row(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b, int32_t b_stride,
                    int8_t *output, int32_t count)
{
    add_or_sub_row((const sapool_add_params *)params, -1, a, a_stride, b, b_stride, output, count);
}

static void mul_row(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b, int32_t b_stride,
                    int8_t *output, int32_t count)
{
    const sapool_mul_params *p = (const sapool_mul_params *)params;
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, output_offset = p->output_offset;
    const int32_t multiplier = p->output_multiplier, shift = p->output_shift;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t product = ((int32_t)a[i * a_stride] + offset1) * ((int32_t)b[i * b_stride] + offset2);
        const int32_t scaled = sapool_requantize(product, multiplier, shift);
        output[i] = sapool_clamp_s8(scaled + output_offset, act_min, act_max);
    }
}

void sapool_add_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    sapool_broadcast_rows(&p->shape, p, input1, input2, output, add_row);
}

void sapool_sub_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    sapool_broadcast_rows(&p->shape, p, input1, input2, output, sub_row);
}

void sapool_mul_s8(const sapool_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    sapool_broadcast_rows(&p->shape, p, input1, input2, output, mul_row);
}
