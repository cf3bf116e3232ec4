/* elementwise.c (arm): int8 ADD, SUB and MUL, bit-exact twin of reference/elementwise.c.
 *
 * The walk over the broadcast shape is the portable kernel's (one row call per innermost run). What changes is
 * the requantisation, three per ADD/SUB element and one per MUL element: when every value it sees is known to be
 * small enough (checked once per call from the shifts: int8 operands plus offsets are at most 255 in magnitude),
 * the doubling high multiply is one smmulr (sapool_requantize_offset) instead of a 64-bit multiply and two
 * roundings with branches.
 */
#include "sapool_arm.h"
#include "sapool_broadcast.h"
#include "sapool_kernels.h"

/* A requantisation from TFLite's (multiplier, shift), encoded at run time as the conv kernels get it at compile
 * time (sapool_arm.h), and whether its fast form is exact: the values it sees are below 2^magnitude_bits in
 * magnitude, so it is when, shifted left by left + 2, they stay below 2^31. */
typedef struct {
    int32_t multiplier, code;
    int32_t fast;
} element_requant;

static element_requant requant_for(int32_t multiplier, int32_t shift, int32_t magnitude_bits)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const element_requant r = {multiplier, right | ((left + 1) << 8), magnitude_bits + left + 2 <= 31};
    return r;
}

/* The requantised value (no offset: sapool_requantize_offset with 2 * 0 + 1). */
static inline int32_t requantize_fast(int32_t x, const element_requant *r)
{
    return sapool_requantize_offset(x, r->multiplier, r->code, 1);
}

static inline int32_t requantize(int32_t x, const element_requant *r)
{
    return r->fast ? requantize_fast(x, r) : sapool_requantize_exact(x, r->multiplier, r->code);
}

/* The common ADD/SUB run, unswitched: contiguous operands, every requantisation fast; `narrowed` (a constant
 * where inlined) when the activation clamp cuts into int8. Each operand's shift by left_shift and its own left
 * shift + 1 are one shift. */
static inline __attribute__((always_inline)) void add_or_sub_fast(const sapool_add_params *p, int32_t sign,
                                                                  const element_requant *q1,
                                                                  const element_requant *q2,
                                                                  const element_requant *out, const int8_t *a,
                                                                  const int8_t *b, int8_t *output, int32_t count,
                                                                  int narrowed)
{
    const int32_t shift1 = p->left_shift + sapool_code_left1(q1->code);
    const int32_t shift2 = p->left_shift + sapool_code_left1(q2->code);
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset;
    const int32_t m1 = q1->multiplier, code1 = q1->code, m2 = q2->multiplier, code2 = q2->code;
    const int32_t m_out = out->multiplier, code_out = out->code;
    const int32_t output_offset2p1 = 2 * p->output_offset + 1, act_min = p->act_min, act_max = p->act_max;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t x = sapool_requantize_shifted((int32_t)((uint32_t)((int32_t)a[i] + offset1) << shift1), m1,
                                                    code1, 1);
        const int32_t y = sapool_requantize_shifted((int32_t)((uint32_t)((int32_t)b[i] + offset2) << shift2), m2,
                                                    code2, 1);
        int32_t result = __ssat(sapool_requantize_offset(sign > 0 ? x + y : x - y, m_out, code_out,
                                                         output_offset2p1), 8);
        if (narrowed) {
            result = result < act_min ? act_min : result;
            result = result > act_max ? act_max : result;
        }
        output[i] = (int8_t)result;
    }
}

/* ADD (sign 1) and SUB (sign -1) of one run (parameters in locals: int8 stores may alias them). The rescaled
 * operands are below 2^(left_shift + 8) (|value + offset| <= 255), their sum below 2^(left_shift + 9). */
static void add_or_sub_row(const sapool_add_params *p, int32_t sign, const int8_t *a, int32_t a_stride,
                           const int8_t *b, int32_t b_stride, int8_t *output, int32_t count)
{
    const int32_t left_shift = p->left_shift;
    const int32_t offset1 = p->input1_offset;
    const int32_t offset2 = p->input2_offset;
    const element_requant q1 = requant_for(p->input1_multiplier, p->input1_shift, left_shift + 8);
    const element_requant q2 = requant_for(p->input2_multiplier, p->input2_shift, left_shift + 8);
    const element_requant out = requant_for(p->output_multiplier, p->output_shift, left_shift + 9);
    const int32_t output_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
    int32_t i;
    if (q1.fast && q2.fast && out.fast && a_stride == 1 && b_stride == 1) {
        if (act_min > -128 || act_max < 127) {
            add_or_sub_fast(p, sign, &q1, &q2, &out, a, b, output, count, 1);
        } else {
            add_or_sub_fast(p, sign, &q1, &q2, &out, a, b, output, count, 0);
        }
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t x = requantize((int32_t)((uint32_t)((int32_t)a[i * a_stride] + offset1) << left_shift), &q1);
        const int32_t y = requantize((int32_t)((uint32_t)((int32_t)b[i * b_stride] + offset2) << left_shift), &q2);
        const int32_t result = requantize(sign > 0 ? x + y : x - y, &out);
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

/* MUL of one run: the product of two offset operands is below 2^16 in magnitude. */
static void mul_row(const void *params, const int8_t *a, int32_t a_stride, const int8_t *b, int32_t b_stride,
                    int8_t *output, int32_t count)
{
    const sapool_mul_params *p = (const sapool_mul_params *)params;
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, output_offset = p->output_offset;
    const element_requant q = requant_for(p->output_multiplier, p->output_shift, 16);
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t product = ((int32_t)a[i * a_stride] + offset1) * ((int32_t)b[i * b_stride] + offset2);
        output[i] = sapool_clamp_s8(requantize(product, &q) + output_offset, act_min, act_max);
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
