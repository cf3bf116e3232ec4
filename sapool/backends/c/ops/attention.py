"""FUSED_ATTENTION (passes/fuse_attention.py) → reference/attention.c: scores → softmax → mix, one row at a time.

Every constant is the unfused ops' own (batch_matmul.emit_params, softmax.emit_params with one row), so the
kernel's arithmetic is theirs; only the order changes (row by row), and the scores row lives in kernel scratch.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp, RenamedContext
from sapool.backends.c.ops import batch_matmul, softmax
from sapool.ir.graph import Graph, Op
from sapool.passes.fuse_attention import FUSED_ATTENTION, unfused_ops

OPCODES = (FUSED_ATTENTION,)


def check(graph: Graph, op: Op) -> None:
    for part in unfused_ops(op):
        (softmax if part.opcode == "SOFTMAX" else batch_matmul).check(graph, part)


def scratch_bytes(graph: Graph, op: Op) -> int:
    """One row of scores: L bytes (the softmax runs in it, in place)."""
    return graph.tensor(op.options.scores).shape[-1]


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    scores_op, softmax_op, mix_op = unfused_ops(op)
    scores_params, q_offsets, k_offsets = batch_matmul.emit_params(ctx, graph, scores_op)
    softmax_params, table = softmax.emit_params(RenamedContext(ctx, "_softmax"), graph, softmax_op, rows=1)
    mix_params, _, v_offsets = batch_matmul.emit_params(RenamedContext(ctx, "_mix"), graph, mix_op, lhs_offsets=False)
    q, k, v = (ctx.tensor_pointer(i) for i in op.inputs)
    call = (f"sapool_attention_s8({scores_params}, {q_offsets}, {k_offsets}, {softmax_params}, {table}, "
            f"{mix_params}, {v_offsets}, {q}, {k}, {v}, {ctx.tensor_pointer(op.outputs[0])}, "
            f"{ctx.scratch_pointer(op.index)});")
    return LoweredOp((call,), ("reference/attention.c", "reference/softmax.c"),
                     comment="BATCH_MATMUL + SOFTMAX + BATCH_MATMUL fused: one scores row at a time")

