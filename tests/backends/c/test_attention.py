"""BATCH_MATMUL → SOFTMAX → BATCH_MATMUL fused into one kernel (passes/fuse_attention.py): bit-exact with TFLite's
reference kernels running the three ops, and the h×L×L scores and probabilities never get arena bytes."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c import fuse_for_c, scratch_needs
from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import plan_layout
from sapool.memory.lifetimes import aligned
from sapool.passes.fuse_attention import FUSED_ATTENTION
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack


def _attention_model(heads: int, tokens: int, dim: int, adj_y: bool, score_scale: float) -> bytes:
    """x (heads×tokens×dim) attends to itself: softmax(x·xᵀ)·x, the self-attention SAP lowers to."""
    builder = ModelBuilder()
    x = builder.tensor("x", [heads, tokens, dim], quantization=make_quantization(0.05, 3))
    key = x
    if not adj_y:  # xᵀ through a TRANSPOSE, the other layout exporters write
        perm = builder.tensor("perm", [3], fb.TensorType.INT32, data=np.array([0, 2, 1], np.int32))
        key = builder.tensor("xt", [heads, dim, tokens], quantization=make_quantization(0.05, 3))
        builder.op(fb.BuiltinOperator.TRANSPOSE, [x, perm], [key], fb.TransposeOptionsT())
    scores = builder.tensor("scores", [heads, tokens, tokens], quantization=make_quantization(score_scale, -10))
    probabilities = builder.tensor("p", [heads, tokens, tokens], quantization=make_quantization(1 / 256, -128))
    mixed = builder.tensor("mixed", [heads, tokens, dim], quantization=make_quantization(0.03, -5))
    options = fb.BatchMatMulOptionsT()
    options.adjY = adj_y
    builder.op(fb.BuiltinOperator.BATCH_MATMUL, [x, key], [scores], options)
    softmax = fb.SoftmaxOptionsT()
    softmax.beta = 1.0
    builder.op(fb.BuiltinOperator.SOFTMAX, [scores], [probabilities], softmax)
    builder.op(fb.BuiltinOperator.BATCH_MATMUL, [probabilities, x], [mixed], fb.BatchMatMulOptionsT())
    return pack(builder.build([x], [mixed]))


@pytest.mark.parametrize("heads, tokens, dim, adj_y, score_scale", [
    (2, 16, 8, True, 0.08), (1, 37, 5, False, 0.03), (3, 9, 12, True, 0.2),
])
def test_fused_attention_is_bit_exact_and_stores_no_scores(tmp_path, heads, tokens, dim, adj_y, score_scale):
    content = _attention_model(heads, tokens, dim, adj_y, score_scale)
    graph = read_tflite_bytes(content, "attention")
    fused = fuse_for_c(graph)
    assert [op.opcode for op in fused.ops][-1] == FUSED_ATTENTION and len(fused.ops) == len(graph.ops) - 2
    inputs = np.random.default_rng(heads * tokens).integers(-128, 128, (12, heads * tokens * dim), dtype=np.int8)
    expected = np.stack([run_reference(content, [row.reshape(heads, tokens, dim)])[0].reshape(-1) for row in inputs])
    layout, _, executable = compile_for_host(graph, tmp_path)
    assert (run_host(executable, inputs, expected.shape[1]) == expected).all()
    tensor = aligned(heads * tokens * dim)
    key = 0 if adj_y else tensor  # the transposed copy of x
    assert layout.peak_arena_bytes == 2 * tensor + key + aligned(tokens)  # x, xᵀ, output and one scores row
    unfused = plan_layout(graph, scratch=scratch_needs(graph))
    assert unfused.peak_arena_bytes >= aligned(heads * tokens * tokens) + tensor  # scores and x, live together


def test_scores_read_elsewhere_are_not_fused():
    graph = read_tflite_bytes(_attention_model(2, 8, 4, True, 0.1), "attention")
    kept = type(graph)(graph.name, graph.tensors, graph.ops, graph.inputs, (graph.ops[0].outputs[0],))
    assert fuse_for_c(kept) is kept  # the scores are a graph output: they must be stored
