"""MatMul + bias Add, as exporters write a linear layer on tokens, becomes one nn.Linear with its bias."""

import numpy as np
import torch
from torch import nn

from sapool.frontends import load_model
from tests.frontends.onnx.onnx_graphs import OnnxGraph, run_onnxruntime


def _linear_layers(module):
    return [m for m in module.inner.modules() if isinstance(m, nn.Linear)]


def test_a_matmul_followed_by_a_bias_add_is_one_linear_with_bias(tmp_path):
    g = OnnxGraph([1, 4, 6])
    x = g.node("MatMul", ["image", g.weight("w", (6, 5))], "proj")
    x = g.node("Add", [g.weight("b", (5,)), x], "proj_bias")  # bias first: either order is fused
    y = g.node("Relu", [x], "relu")
    path = g.save(tmp_path / "tokens.onnx", y, [1, 4, 5])
    loaded = load_model(path)
    (linear,) = _linear_layers(loaded.module)
    assert linear.bias is not None
    x = np.random.default_rng(1).standard_normal((1, 4, 6)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(loaded.module(torch.from_numpy(x)).numpy(), run_onnxruntime(path, x), atol=1e-6)


def test_a_matmul_output_read_twice_keeps_its_add_separate(tmp_path):
    g = OnnxGraph([1, 4, 6])
    x = g.node("MatMul", ["image", g.weight("w", (6, 6))], "proj")
    biased = g.node("Add", [x, g.weight("b", (6,))], "proj_bias")
    y = g.node("Mul", [biased, x], "gate")  # the MatMul output has a second reader: no fusion
    path = g.save(tmp_path / "gate.onnx", y, [1, 4, 6])
    loaded = load_model(path)
    (linear,) = _linear_layers(loaded.module)
    assert linear.bias is None
    x = np.random.default_rng(2).standard_normal((1, 4, 6)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(loaded.module(torch.from_numpy(x)).numpy(), run_onnxruntime(path, x), atol=1e-5)
