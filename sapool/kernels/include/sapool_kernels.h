/* sapool_kernels.h: the portable int8 kernels (NHWC tensors, TFLite's int8 reference semantics).
 *
 * Kernels never allocate: every buffer, including scratch, is a pointer into an arena the caller planned.
 * Parameters that TFLite derives in Prepare (requantisation multipliers and shifts, folded biases, padding,
 * activation bounds) are computed by sapool at compile time and passed in as const data.
 * One .c file per kernel family in reference/; one prototype block per family below.
 */
#ifndef SAPOOL_KERNELS_H
#define SAPOOL_KERNELS_H

#include <stdint.h>

#include "sapool_quant.h"

/* Geometry and quantisation shared by CONV_2D and DEPTHWISE_CONV_2D. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t depth_multiplier; /* DEPTHWISE_CONV_2D only */
    int32_t input_offset;     /* minus the input zero point */
    int32_t output_offset;    /* the output zero point */
    int32_t act_min, act_max;
} sapool_conv_params;

/* conv.c: CONV_2D. `bias` is folded: bias + input_offset * sum(filter row), so padded taps hold the input zero
 * point; `scratch` holds one im2col patch (kernel_h * kernel_w * in_c bytes), two where
 * sapool_conv_gathers_pairs (the arm kernel gathers two windows at a time there), and may be 0 for 1x1 kernels. */
/* True for the convolutions whose scratch holds two patches, for the arm kernel to gather windows two at a time:
 * not 1x1, and a kernel row of fewer than 16 bytes (few input channels, as in a first layer). The C backend sizes
 * the scratch from the same rule (sapool/backends/c/arm_layout.py, conv_gathers_pairs). */
static inline int sapool_conv_gathers_pairs(int32_t kernel_h, int32_t kernel_w, int32_t in_c)
{
    return !(kernel_h == 1 && kernel_w == 1) && kernel_w * in_c < 16;
}

void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch);

/* The taps k in [0, kernel) of one window axis that land inside [0, size): first and one-past-last. Shared by the
 * depthwise kernel's reference and arm twins (border windows). */
static inline void sapool_clip_taps(int32_t origin, int32_t dilation, int32_t kernel, int32_t size, int32_t *first,
                                    int32_t *end)
{
    int32_t k = 0;
    while (k < kernel && origin + k * dilation < 0) {
        ++k;
    }
    *first = k;
    while (k < kernel && origin + k * dilation < size) {
        ++k;
    }
    *end = k;
}

/* grouped_conv.c: CONV_2D with `groups` > 1 (filter depth in_c / groups). `bias` is folded as for conv.c;
 * `scratch` holds one group's patch (kernel_h * kernel_w * in_c / groups bytes). */
void sapool_grouped_conv2d_s8(const sapool_conv_params *p, int32_t groups, const int8_t *input,
                              const int8_t *filter, const int32_t *bias, const int32_t *multiplier,
                              const int32_t *shift, int8_t *output, int8_t *scratch);

/* depthwise_conv.c: DEPTHWISE_CONV_2D with any depth multiplier and dilation. `bias` is TFLite's, for border
 * pixels; `folded_bias` adds input_offset * sum(filter taps of the channel), for windows wholly inside the input. */
void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *folded_bias, const int32_t *multiplier,
                                const int32_t *shift, int8_t *output);

typedef struct {
    int32_t batches, in_features, out_features;
    int32_t per_channel; /* 1: multiplier/shift hold out_features entries, 0: one entry */
    int32_t output_offset;
    int32_t act_min, act_max;
} sapool_fc_params;

/* fully_connected.c: FULLY_CONNECTED with weights [out_features, in_features]; `bias` folded as for conv. */
void sapool_fully_connected_s8(const sapool_fc_params *p, const int8_t *input, const int8_t *weights,
                               const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                               int8_t *output);

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} sapool_pool_params;

/* One pooling window clipped to the input: rows [y_start, y_end), columns [x_start, x_end) (padding is never a
 * tap). Shared by pool.c's reference and arm twins. */
typedef struct {
    int32_t y_start, y_end, x_start, x_end;
} sapool_pool_window;

static inline sapool_pool_window sapool_pool_clip_window(const sapool_pool_params *p, int32_t out_y, int32_t out_x)
{
    const int32_t y0 = out_y * p->stride_h - p->pad_top;
    const int32_t x0 = out_x * p->stride_w - p->pad_left;
    sapool_pool_window w;
    w.y_start = y0 < 0 ? 0 : y0;
    w.x_start = x0 < 0 ? 0 : x0;
    w.y_end = y0 + p->filter_h < p->in_h ? y0 + p->filter_h : p->in_h;
    w.x_end = x0 + p->filter_w < p->in_w ? x0 + p->filter_w : p->in_w;
    return w;
}

/* TFLite's int8 average: the sum divided by the tap count rounding half away from zero, then the activation clamp. */
static inline int8_t sapool_pool_average(int32_t sum, int32_t count, const sapool_pool_params *p)
{
    const int32_t average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return sapool_clamp_s8(average, p->act_min, p->act_max);
}

/* pool.c: AVERAGE_POOL_2D and MAX_POOL_2D (input and output share scale and zero point). */
void sapool_average_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output);
void sapool_max_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t rows, depth;
} sapool_softmax_params;

/* softmax.c: SOFTMAX over the last axis, TFLite's fixed-point reference (output scale 1/256, zero point -128).
 * `exp_table[d]` is the fixed-point exp (Q0.31) of the scaled difference -d to the row maximum, 0 where TFLite
 * drops the term. */
void sapool_softmax_s8(const sapool_softmax_params *p, const int32_t *exp_table, const int8_t *input,
                       int8_t *output);

/* Broadcasting over up to 6 dimensions: dims of the output, each operand's element stride per output
 * dimension (0 where it broadcasts). */
typedef struct {
    int32_t dims[6];
    int32_t a_strides[6];
    int32_t b_strides[6];
} sapool_broadcast_shape;

typedef struct {
    sapool_broadcast_shape shape;
    int32_t left_shift;
    int32_t input1_offset, input1_multiplier, input1_shift;
    int32_t input2_offset, input2_multiplier, input2_shift;
    int32_t output_offset, output_multiplier, output_shift;
    int32_t act_min, act_max;
} sapool_add_params;

typedef struct {
    sapool_broadcast_shape shape;
    int32_t input1_offset, input2_offset;
    int32_t output_offset, output_multiplier, output_shift;
    int32_t act_min, act_max;
} sapool_mul_params;

/* elementwise.c: ADD, SUB and MUL with broadcasting, TFLite's int8 rescaling schemes. */
void sapool_add_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void sapool_sub_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void sapool_mul_s8(const sapool_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

/* maximum.c: MAXIMUM and MINIMUM with broadcasting (raw int8 values compared; one shared quantisation). */
void sapool_maximum_s8(const sapool_broadcast_shape *shape, const int8_t *input1, const int8_t *input2,
                       int8_t *output);
void sapool_minimum_s8(const sapool_broadcast_shape *shape, const int8_t *input1, const int8_t *input2,
                       int8_t *output);

/* lookup.c: LOGISTIC, TANH, the RELUs and QUANTIZE (int8 -> int8) as a 256-entry table indexed by
 * (uint8_t)input; DEQUANTIZE (int8 -> float32) the same way, through a table of 256 floats. */
void sapool_lookup_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
void sapool_lookup_s8_f32(int32_t size, const float *table, const int8_t *input, float *output);

/* quantize.c: QUANTIZE float32 -> int8: round(x / scale) half away from zero (division in float32, as TFLite),
 * plus the zero point, saturated to int8; NaN gives the zero point. */
void sapool_quantize_f32_s8(int32_t size, float scale, int32_t zero_point, const float *input, int8_t *output);

/* quantize.c: QUANTIZE int16 -> int8 and int8 -> int16 (an audio front end's int16 graph I/O around an int8
 * body), TFLite's Requantize: (v - input_zero_point) requantised with double rounding, + output_zero_point,
 * clamped to the output type. */
void sapool_requantize_s16_s8(int32_t size, int32_t multiplier, int32_t shift, int32_t input_zero_point,
                              int32_t output_zero_point, const int16_t *input, int8_t *output);
void sapool_requantize_s8_s16(int32_t size, int32_t multiplier, int32_t shift, int32_t input_zero_point,
                              int32_t output_zero_point, const int8_t *input, int16_t *output);

typedef struct {
    int32_t kept_dims[3], kept_strides[3];
    int32_t reduced_dims[3], reduced_strides[3];
    int32_t count; /* values averaged per output */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift; /* input/output scale ratio with 1/count folded in, as TFLite folds it */
} sapool_mean_params;

/* mean.c: MEAN over any axes (kept_dims/reduced_dims: the input's dimensions, merged, with their strides). */
void sapool_mean_s8(const sapool_mean_params *p, const int8_t *input, int8_t *output);
/* The int8 mean of `count` int8 values whose int32 sum is `sum` (requantised as sapool_mean_s8 does). */
int8_t sapool_mean_of_sum(const sapool_mean_params *p, int32_t sum);

typedef struct {
    int32_t rows[4];                 /* windows, as four nested loops */
    int32_t weights_row_strides[4];  /* element strides of m along them */
    int32_t values_row_strides[4];   /* and of x */
    int32_t window[2];               /* each window's elements, as two nested loops */
    int32_t weights_window_strides[2];
    int32_t values_window_strides[2];
} sapool_window_pool_params;

/* window_pool.c: MEAN(SOFTMAX(window of m) * window of x) per window, one window at a time; `row` is
 * window[0] * window[1] bytes of scratch; `softmax` has rows = 1; `mul` is the MUL's (offset 1 for the
 * probabilities). Bit-identical with SOFTMAX, MUL and MEAN run on the materialised window views. */
void sapool_window_pool_s8(const sapool_window_pool_params *p, const sapool_softmax_params *softmax,
                           const int32_t *exp_table, const sapool_mul_params *mul, const sapool_mean_params *mean,
                           const int8_t *m, const int8_t *x, int8_t *output, int8_t *row);

typedef struct {
    int32_t in_dims[6], out_dims[6], before[6];
    int32_t pad_value;
} sapool_pad_params;

/* pad.c: PAD (pad value: the output zero point) and PADV2 (its constant operand). */
void sapool_pad_s8(const sapool_pad_params *p, const int8_t *input, int8_t *output);

/* concatenation.c: CONCATENATION; chunks[i] = bytes of input i per slice of the leading (outer) dimensions. */
void sapool_concatenation_s8(int32_t outer, int32_t count, const int8_t *const *inputs, const int32_t *chunks,
                             int8_t *output);

typedef struct {
    int32_t out_dims[6], in_strides[6];
} sapool_transpose_params;

/* transpose.c: TRANSPOSE of 1-byte elements. */
void sapool_transpose_s8(const sapool_transpose_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t batches, rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride, rhs_depth_stride, rhs_col_stride;
    int32_t lhs_offset, rhs_offset, output_offset;
    int32_t output_multiplier, output_shift;
    int32_t single_rounding; /* 1: one rounding (FULLY_CONNECTED with run-time weights), 0: BATCH_MATMUL's two */
} sapool_batch_matmul_params;

/* batch_matmul.c: BATCH_MATMUL, and FULLY_CONNECTED with run-time weights; *_batch_offsets hold each output
 * batch's operand offsets (broadcasting). */
void sapool_batch_matmul_s8(const sapool_batch_matmul_params *p, const int32_t *lhs_batch_offsets,
                            const int32_t *rhs_batch_offsets, const int8_t *lhs, const int8_t *rhs,
                            int8_t *output);

/* attention.c: BATCH_MATMUL(q, k) -> SOFTMAX -> BATCH_MATMUL(p, v) one row at a time; `row` is `scores->cols`
 * bytes of scratch; `softmax` has rows = 1. Bit-identical with the three kernels. */
void sapool_attention_s8(const sapool_batch_matmul_params *scores, const int32_t *q_batch_offsets,
                         const int32_t *k_batch_offsets, const sapool_softmax_params *softmax,
                         const int32_t *exp_table, const sapool_batch_matmul_params *mix,
                         const int32_t *v_batch_offsets, const int8_t *q, const int8_t *k, const int8_t *v,
                         int8_t *output, int8_t *row);

typedef struct {
    int32_t batches, in_h, in_w, depth, out_h, out_w;
} sapool_resize_params;

/* resize_nearest.c: RESIZE_NEAREST_NEIGHBOR with the source row/column of each output row/column precomputed. */
void sapool_resize_nearest_s8(const sapool_resize_params *p, const int32_t *rows, const int32_t *cols,
                              const int8_t *input, int8_t *output);

/* patch.c: a patch-based stage's copies in and out of its patch buffers: `rows` runs of `run` bytes, the k-th from
 * from + k * from_stride to to + k * to_stride. */
void sapool_copy_rows_s8(const int8_t *from, int32_t from_stride, int8_t *to, int32_t to_stride, int32_t rows,
                         int32_t run);

#endif /* SAPOOL_KERNELS_H */
