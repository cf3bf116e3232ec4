"""The int8 exports of SAP and LIP networks (sapool's own annotator) compiled by the native C backend:
every op they contain has a kernel, and the host build (sanitizers on) is bit-exact with TFLite's reference
kernels. These layers are where the export's SOFTMAX, BATCH_MATMUL, MEAN, MUL and TRANSPOSE ops come from; the C
backend runs SAP's attention, window softmax pooling ("sap") and exp polynomial ("sap-nowin") as fused ops."""

from __future__ import annotations

import numpy as np
import pytest

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.passes.patches import PATCH_STAGE
from sapool.passes.fuse_attention import FUSED_ATTENTION
from sapool.passes.fuse_lookup import FUSED_LOOKUP
from sapool.passes.fuse_window import FUSED_WINDOW_POOL
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.quantize.conftest import needs_fashion_mnist

INPUTS = 10
FUSED = {"sap": {FUSED_ATTENTION, FUSED_WINDOW_POOL}, "sap-nowin": {FUSED_ATTENTION, FUSED_LOOKUP}, "lip": {FUSED_WINDOW_POOL}}


@pytest.mark.slow
@needs_fashion_mnist
@pytest.mark.parametrize("pool", ["sap", "sap-nowin", "lip"])
def test_export_runs_bit_exact_in_the_c_backend(small_export, pool, tmp_path):
    content = small_export(pool, "aggressive").quantized.tflite
    graph = read_tflite_bytes(content, pool)
    layout, _, executable = compile_for_host(graph, tmp_path)
    assert {op.opcode for op in layout.graph.ops if op.opcode.startswith("CUSTOM:")} - {PATCH_STAGE} == FUSED[pool]
    if pool != "lip":  # SAP's input map has two readers (patch means' AvgPool, patch embedding): both end the stage
        assert [op.options.terminals for op in layout.graph.ops if op.opcode == PATCH_STAGE] == [2]
    inputs = np.random.default_rng(3).integers(-128, 128, (INPUTS, graph.tensor(graph.inputs[0]).nbytes), np.int8)
    expected = reference_outputs(content, inputs)
    outputs = run_host(executable, inputs, expected.shape[1])
    assert int((outputs != expected).any(axis=1).sum()) == 0
