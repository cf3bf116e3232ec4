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
 * point; `scratch` holds one im2col patch (kernel_h * kernel_w * in_c bytes) and may be 0 for 1x1 kernels. */
void sapool_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output, int8_t *scratch);

/* depthwise_conv.c: DEPTHWISE_CONV_2D with any depth multiplier and dilation; `bias` is TFLite's (not folded). */
void sapool_depthwise_conv2d_s8(const sapool_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                                int8_t *output);

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

/* pool.c: AVERAGE_POOL_2D and MAX_POOL_2D (input and output share scale and zero point). */
void sapool_average_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output);
void sapool_max_pool2d_s8(const sapool_pool_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t left_shift;
    int32_t input1_offset, input1_multiplier, input1_shift;
    int32_t input2_offset, input2_multiplier, input2_shift;
    int32_t output_offset, output_multiplier, output_shift;
    int32_t act_min, act_max;
} sapool_add_params;

/* add.c: ADD of two same-shape int8 tensors, TFLite's rescale-to-common-scale scheme. */
void sapool_add_s8(const sapool_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

typedef struct {
    int32_t rows, depth;
    float output_scale;
    int32_t output_offset;
} sapool_softmax_params;

/* softmax.c: SOFTMAX over the last axis. `exp_table[255 - d]` = exp(-input_scale * beta * d) in float, as
 * TFLite's int8 kernel builds it; the kernel then only adds, multiplies and divides floats (no libm). */
void sapool_softmax_s8(const sapool_softmax_params *p, const float *exp_table, const int8_t *input,
                       int8_t *output);

#endif /* SAPOOL_KERNELS_H */
