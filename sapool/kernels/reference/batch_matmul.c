/* batch_matmul.c: int8 BATCH_MATMUL, bit-exact with TFLite's reference BatchMatMul<int8_t, int32_t>.
 *
 * out[b][i][j] = requantise(sum_k (lhs[b][i][k] + lhs_offset) * (rhs[b][k][j] + rhs_offset)) + output_offset.
 * FULLY_CONNECTED with run-time weights runs here too, requantised with FULLY_CONNECTED's single rounding.
 * adj_x/adj_y and batch broadcasting are resolved at compile time into element strides and one pair of operand
 * offsets per output batch. Parameters are copied to locals: stores through the int8 output may alias them. */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_batch_matmul_s8(const sapool_batch_matmul_params *p, const int32_t *lhs_batch_offsets,
                            const int32_t *rhs_batch_offsets, const int8_t *lhs, const int8_t *rhs,
                            int8_t *output)
{
    const int32_t batches = p->batches, rows = p->rows, cols = p->cols, depth = p->depth;
    const int32_t lhs_row_stride = p->lhs_row_stride, lhs_depth_stride = p->lhs_depth_stride;
    const int32_t rhs_depth_stride = p->rhs_depth_stride, rhs_col_stride = p->rhs_col_stride;
    const int32_t lhs_offset = p->lhs_offset, rhs_offset = p->rhs_offset, output_offset = p->output_offset;
    const int32_t multiplier = p->output_multiplier, shift = p->output_shift, single = p->single_rounding;
    int32_t b, i, j, k;
    for (b = 0; b < batches; ++b) {
        for (i = 0; i < rows; ++i) {
            const int8_t *lhs_row = lhs + lhs_batch_offsets[b] + i * lhs_row_stride;
            for (j = 0; j < cols; ++j) {
                const int8_t *l = lhs_row;
                const int8_t *r = rhs + rhs_batch_offsets[b] + j * rhs_col_stride;
                int32_t acc = 0;
                for (k = 0; k < depth; ++k) {
                    acc += ((int32_t)*l + lhs_offset) * ((int32_t)*r + rhs_offset);
                    l += lhs_depth_stride;
                    r += rhs_depth_stride;
                }
                acc = (single ? sapool_requantize_single(acc, multiplier, shift)
                              : sapool_requantize(acc, multiplier, shift)) + output_offset;
                *output++ = sapool_clamp_s8(acc, -128, 127);
            }
        }
    }
}
