"""The int8 exports of SAP and LIP networks (sapool's own annotator) compiled by the native C backend:
every op they contain has a kernel, and the host build (sanitizers on) is bit-exact with TFLite's reference
kernels. These layers are where the export's SOFTMAX, BATCH_MATMUL, MEAN, MUL and TRANSPOSE ops come from."""

from __future__ import annotations

import numpy as np
import pytest

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.quantize.conftest import needs_fashion_mnist

INPUTS = 10


@pytest.mark.slow
@needs_fashion_mnist
@pytest.mark.parametrize("pool", ["sap", "lip"])  # sap-nowin uses a subset of their op types
def test_export_runs_bit_exact_in_the_c_backend(small_export, pool, tmp_path):
    content = small_export(pool, "aggressive").quantized.tflite
    graph = read_tflite_bytes(content, pool)
    _, _, executable = compile_for_host(graph, tmp_path)
    inputs = np.random.default_rng(3).integers(-128, 128, (INPUTS, graph.tensor(graph.inputs[0]).nbytes), np.int8)
    expected = reference_outputs(content, inputs)
    outputs = run_host(executable, inputs, expected.shape[1])
    assert int((outputs != expected).any(axis=1).sum()) == 0
