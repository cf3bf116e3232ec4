/* attention.c: BATCH_MATMUL(q, k) -> SOFTMAX -> BATCH_MATMUL(p, v) fused, one row at a time.
 *
 * Row i of the output needs only row i of the probabilities, which needs only row i of the scores: each scores
 * row is made in `row` (cols bytes of scratch) exactly as batch_matmul.c would make it, softmaxed there in place
 * by softmax.c (rows = 1), then multiplied by v exactly as batch_matmul.c would. Same integer arithmetic, so the
 * output is bit-identical with the three kernels, and the batches x rows x cols scores are never stored. */
#include "sapool_kernels.h"
#include "sapool_quant.h"

void sapool_attention_s8(const sapool_batch_matmul_params *scores, const int32_t *q_batch_offsets,
                         const int32_t *k_batch_offsets, const sapool_softmax_params *softmax,
                         const int32_t *exp_table, const sapool_batch_matmul_params *mix,
                         const int32_t *v_batch_offsets, const int8_t *q, const int8_t *k, const int8_t *v,
                         int8_t *output, int8_t *row)
{
    int32_t b, i, j, t;
    for (b = 0; b < scores->batches; ++b) {
        const int8_t *q_batch = q + q_batch_offsets[b];
        const int8_t *k_batch = k + k_batch_offsets[b];
        const int8_t *v_batch = v + v_batch_offsets[b];
        for (i = 0; i < scores->rows; ++i) {
            for (j = 0; j < scores->cols; ++j) {
                int32_t acc = 0;
                for (t = 0; t < scores->depth; ++t) {
                    acc += ((int32_t)q_batch[i * scores->lhs_row_stride + t * scores->lhs_depth_stride]
                            + scores->lhs_offset)
                         * ((int32_t)k_batch[t * scores->rhs_depth_stride + j * scores->rhs_col_stride]
                            + scores->rhs_offset);
                }
                acc = sapool_requantize(acc, scores->output_multiplier, scores->output_shift) + scores->output_offset;
                row[j] = sapool_clamp_s8(acc, -128, 127);
            }
            sapool_softmax_s8(softmax, exp_table, row, row);
            for (j = 0; j < mix->cols; ++j) {
                int32_t acc = 0;
                for (t = 0; t < mix->depth; ++t) {
                    acc += ((int32_t)row[t] + mix->lhs_offset)
                         * ((int32_t)v_batch[t * mix->rhs_depth_stride + j * mix->rhs_col_stride] + mix->rhs_offset);
                }
                acc = sapool_requantize(acc, mix->output_multiplier, mix->output_shift) + mix->output_offset;
                *output++ = sapool_clamp_s8(acc, -128, 127);
            }
        }
    }
}
