/* batch_matmul.c: int8 BATCH_MATMUL, bit-exact with TFLite's reference BatchMatMul<int8_t, int32_t>.
 *
 * out[b][i][j] = requantise(sum_k (lhs[b][i][k] + lhs_offset) * (rhs[b][k][j] + rhs_offset)) + output_offset.
 * adj_x/adj_y and batch broadcasting are resolved at compile time into element strides and one pair of operand
 * offsets per output batch. */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_batch_matmul_s8(const sapool_batch_matmul_params *p, const int32_t *lhs_batch_offsets,
                            const int32_t *rhs_batch_offsets, const int8_t *lhs, const int8_t *rhs,
                            int8_t *output)
{
    int32_t b, i, j, k;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *lhs_batch = lhs + lhs_batch_offsets[b];
        const int8_t *rhs_batch = rhs + rhs_batch_offsets[b];
        for (i = 0; i < p->rows; ++i) {
            for (j = 0; j < p->cols; ++j) {
                int32_t acc = 0;
                for (k = 0; k < p->depth; ++k) {
                    acc += ((int32_t)lhs_batch[i * p->lhs_row_stride + k * p->lhs_depth_stride] + p->lhs_offset) *
                           ((int32_t)rhs_batch[k * p->rhs_depth_stride + j * p->rhs_col_stride] + p->rhs_offset);
                }
                acc = sapool_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset;
                *output++ = sapool_clamp_s8(acc, -128, 127);
            }
        }
    }
}
