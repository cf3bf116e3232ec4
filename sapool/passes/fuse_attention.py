"""fuse-attention, the last of the fusions (passes/pipeline.py runs them in order: lookup regions, window softmax
pools, then attention): op chains run as one kernel, so that the tensors between them are never stored;
docs/sap_kernels.md has the whole picture. Every fusion is structural (opcodes, shapes, readers, constant operands),
never quantisation, so the unquantised estimate graph (models/footprint.py) fuses exactly as its export does; whether
a fused op's kernel takes the quantisation is its lowering's `check`.

Attention: scores = BATCH_MATMUL(q, k), p = SOFTMAX(scores), out = BATCH_MATMUL(p, v), with scores and p read by
nothing else (SAP's self-attention, DESIGN §3, lowers to exactly this). All three ops are row-separable: row i of
out depends only on row i of p, which depends only on row i of scores, which depends only on row i of q. The fused
kernel (reference/attention.c) therefore computes one scores row at a time into an L-byte scratch row, softmaxes
it there and multiplies it by v, with the same integer arithmetic as the three kernels: the output is bit-identical
with the unfused ops (0 LSB), while the h×L×L scores and probabilities (SAP's largest tensors) are never stored.
The fused op takes the place of the second BATCH_MATMUL (v may be computed after the scores), reads q, k and v,
and keeps the indices of the two inner tensors, whose quantisation its lowering needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.ir.analysis import MAC_COUNTERS, op_macs
from sapool.ir.graph import Graph, Op
from sapool.ir.options import BatchMatMulOptions, SoftmaxOptions
from sapool.passes.graph_rewrite import only_reader, splice

FUSED_ATTENTION = "CUSTOM:SAPOOL_ATTENTION"


@dataclass(frozen=True)
class AttentionOptions:
    """What the three fused ops were: the inner tensors (never stored) and each op's own options."""

    scores: int
    probabilities: int
    scores_matmul: BatchMatMulOptions
    softmax: SoftmaxOptions
    mix_matmul: BatchMatMulOptions


def fuse_attention(graph: Graph) -> Graph:
    """Every attention chain as one FUSED_ATTENTION op (ops renumbered); `graph` itself when none fuses."""
    readers = graph.readers()
    fused: dict[int, Op] = {}  # position of the second BATCH_MATMUL -> fused op
    dropped: set[int] = set()
    for position in range(len(graph.ops)):
        chain = _attention_chain(graph, readers, position)
        if chain is not None:
            scores_at, softmax_at, mix_at = chain
            fused[mix_at] = _fused_op(graph, *(graph.ops[n] for n in chain))
            dropped.update((scores_at, softmax_at))
    return splice(graph, fused, dropped)


def _attention_chain(graph: Graph, readers: dict[int, list[int]], position: int) -> tuple[int, int, int] | None:
    scores_op = graph.ops[position]
    if scores_op.opcode != "BATCH_MATMUL" or len(scores_op.outputs) != 1:
        return None
    scores = scores_op.outputs[0]
    softmax_at = only_reader(graph, readers, scores)
    if softmax_at is None or graph.ops[softmax_at].opcode != "SOFTMAX":
        return None
    probabilities = graph.ops[softmax_at].outputs[0]
    mix_at = only_reader(graph, readers, probabilities)
    if mix_at is None:
        return None
    mix_op = graph.ops[mix_at]
    if mix_op.opcode != "BATCH_MATMUL" or mix_op.inputs[0] != probabilities or mix_op.inputs[1] == probabilities:
        return None
    if getattr(mix_op.options, "adj_x", False) or len(graph.tensor(scores).shape) < 2:
        return None
    if graph.tensor(probabilities).shape[:-2] != graph.tensor(mix_op.outputs[0]).shape[:-2]:
        return None  # the kernel makes each probabilities row once per output batch: no broadcast of p
    return position, softmax_at, mix_at


def _fused_op(graph: Graph, scores_op: Op, softmax_op: Op, mix_op: Op) -> Op:
    options = AttentionOptions(scores_op.outputs[0], softmax_op.outputs[0], scores_op.options, softmax_op.options,
                               mix_op.options)
    inputs = (scores_op.inputs[0], scores_op.inputs[1], mix_op.inputs[1])
    return Op(mix_op.index, FUSED_ATTENTION, inputs, mix_op.outputs, options,
              name=mix_op.name or f"attention {scores_op.index}-{mix_op.index}",
              origin=" + ".join(filter(None, (scores_op.origin, softmax_op.origin, mix_op.origin))))


def unfused_ops(op: Op) -> tuple[Op, Op, Op]:
    """The three ops a FUSED_ATTENTION op stands for (with its index, for naming their constants)."""
    options: AttentionOptions = op.options
    q, k, v = op.inputs
    return (Op(op.index, "BATCH_MATMUL", (q, k), (options.scores,), options.scores_matmul),
            Op(op.index, "SOFTMAX", (options.scores,), (options.probabilities,), options.softmax),
            Op(op.index, "BATCH_MATMUL", (options.probabilities, v), op.outputs, options.mix_matmul))


def _attention_macs(graph: Graph, op: Op) -> int:
    return sum(op_macs(graph, part) for part in unfused_ops(op))


MAC_COUNTERS[FUSED_ATTENTION] = _attention_macs  # reports and benchmarks count the fused op's work as the three's
