"""MLPs on flat features and transformer ops (LayerNorm, nn.MultiheadAttention, scaled_dot_product_attention,
GELU) quantise to all-int8 .tflite files, which the C backend runs bit-exact with TFLite's reference kernels
(ASan/UBSan host build). TFLite-Micro runs the flat-input networks (it has no GELU) up to FULLY_CONNECTED's
rounding, which it does twice where TFLite's reference kernels round once; the converter also writes the batch-1
matmuls of attention on 3-D tokens as FULLY_CONNECTED with run-time weights, so the same holds there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.quantize.convert import quantize_to_tflite
from sapool.verify.interpreters import run_model
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.quantize.transformer_models import make

# the linear layers themselves export as FULLY_CONNECTED or, lowered for one rounding in every interpreter, CONV_2D
EXPECTED_OPS = {"mlp": set(), "layernorm": {"MEAN", "SUB", "MUL", "ADD", "RSQRT"},
                "transformer": {"MEAN", "SUB", "RSQRT", "BATCH_MATMUL", "SOFTMAX", "GELU", "SLICE"},
                "sdpa": {"SLICE", "SOFTMAX", "FULLY_CONNECTED"}}


@pytest.fixture(scope="module")
def quantized():
    cache = {}

    def get(name: str):
        if name not in cache:
            torch.set_num_threads(1)
            module, shape = make(name)
            generator = torch.Generator().manual_seed(1)
            calibration = [torch.randn(shape, generator=generator) for _ in range(16)]
            cache[name] = quantize_to_tflite(module, shape, calibration), shape
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["mlp", "layernorm", "transformer", "sdpa"])
def test_all_int8_and_the_c_backend_is_bit_exact(quantized, name, tmp_path):
    model, shape = quantized(name)
    assert model.all_int8 and EXPECTED_OPS[name] <= set(model.ops), model.ops
    assert {"FULLY_CONNECTED", "CONV_2D"} & set(model.ops)
    graph = read_tflite_bytes(model.tflite, name)
    expected_input = shape if len(shape) != 4 else (shape[0], *shape[2:], shape[1])
    assert graph.tensor(graph.inputs[0]).shape == expected_input  # flat and token inputs keep their layout
    inputs = np.random.default_rng(2).integers(-128, 128, (6, int(np.prod(shape))), dtype=np.int8)
    expected = reference_outputs(model.tflite, inputs)
    _, _, executable = compile_for_host(graph, tmp_path)
    assert np.array_equal(run_host(executable, inputs, expected.shape[1]), expected)
    if name in ("mlp", "layernorm"):
        micro = run_model(model.tflite, [inputs.reshape(6, *expected_input[1:])], engine="tflm").outputs
        difference = np.abs(np.asarray(micro).reshape(6, -1).astype(int) - expected)
        assert difference.max() <= 1  # the classifier FULLY_CONNECTED's rounding, nothing before it


def test_int8_stays_close_to_float(quantized):
    """The decomposed LayerNorm and attention lose no more than int8 rounding: the transformer's int8 logits
    follow the float ones (cosine similarity over random inputs)."""
    from sapool.quantize.int8_run import run_int8

    model, shape = quantized("transformer")
    module, _ = make("transformer")
    x = torch.randn(8, *shape[1:], generator=torch.Generator().manual_seed(3))
    graph = read_tflite_bytes(model.tflite, "transformer")
    int8 = run_int8(model.tflite, graph, x.numpy()).outputs.reshape(8, -1)
    with torch.no_grad():
        reference = module(x).numpy()
    cosine = (int8 * reference).sum() / np.linalg.norm(int8) / np.linalg.norm(reference)
    assert cosine > 0.98, cosine
