"""decompose_for_int8 rewrites silu, prelu and an unfolded batch_norm of an exported graph into ops with int8
rules; the rewritten graph computes the same function (float, before any quantisation)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sapool.quantize.decompose import decompose_for_int8

aten = torch.ops.aten


class Decomposable(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(4)
        self.prelu, self.shared_prelu = nn.PReLU(4), nn.PReLU()
        with torch.no_grad():
            for tensor, (low, high) in ((self.norm.running_mean, (-1, 1)), (self.norm.running_var, (0.2, 3)),
                                        (self.norm.weight, (-2, 2)), (self.norm.bias, (-1, 1)),
                                        (self.prelu.weight, (-0.5, 0.9)), (self.shared_prelu.weight, (0.1, 0.3))):
                tensor.uniform_(low, high)

    def forward(self, x):
        return self.shared_prelu(self.prelu(self.norm(x))) + F.silu(x)


def test_the_rewritten_graph_computes_the_same_and_has_none_of_the_three_ops():
    torch.manual_seed(0)
    module = Decomposable().eval()
    example = torch.randn(2, 4, 5, 6)
    graph_module = torch.export.export(module, (example,)).module()
    decomposed = {aten.silu.default, aten.prelu.default, aten.batch_norm.default}
    assert {node.target for node in graph_module.graph.nodes} >= decomposed  # as quantize_to_tflite's export has
    decompose_for_int8(graph_module)
    graph_module.recompile()
    targets = {node.target for node in graph_module.graph.nodes if node.op == "call_function"}
    assert not targets & decomposed
    assert {aten.sigmoid.default, aten.relu.default, aten.sub.Tensor} <= targets
    for _ in range(3):
        x = torch.randn(2, 4, 5, 6) * 3
        torch.testing.assert_close(graph_module(x), module(x), rtol=1e-5, atol=1e-5)


def test_layer_norm_attention_and_chunk_are_written_out_and_compute_the_same():
    from tests.quantize.transformer_models import make

    for name in ("transformer", "sdpa"):
        module, shape = make(name)
        graph_module = torch.export.export(module, (torch.randn(shape),)).module()
        decompose_for_int8(graph_module)
        graph_module.recompile()
        targets = {node.target for node in graph_module.graph.nodes if node.op == "call_function"}
        assert not targets & {aten.layer_norm.default, aten.scaled_dot_product_attention.default,
                              aten.chunk.default}
        assert aten._softmax.default in targets
        x = torch.randn(shape)
        torch.testing.assert_close(graph_module(x), module(x), rtol=1e-5, atol=1e-5)


def test_masked_attention_is_refused_naming_its_module():
    import pytest

    from sapool.errors import UnsupportedError

    class Causal(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x, is_causal=True)

    graph_module = torch.export.export(nn.Sequential(Causal()), (torch.randn(1, 4, 8),)).module()
    with pytest.raises(UnsupportedError,
                       match=r"scaled_dot_product_attention, from module 0 \(Causal\) with a mask"):
        decompose_for_int8(graph_module)


def test_constant_arithmetic_folds_and_division_by_a_constant_becomes_a_product():
    class ScaledSum(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return torch.relu(self.fc(x)) / 3.0 + torch.sqrt(torch.tensor(2.0)) - self.fc(x) / self.fc.bias

    module = ScaledSum().eval()
    graph_module = torch.export.export(module, (torch.randn(1, 8),)).module()
    decompose_for_int8(graph_module)
    graph_module.recompile()
    targets = {node.target for node in graph_module.graph.nodes if node.op == "call_function"}
    assert aten.sqrt.default not in targets and aten.div.Tensor not in targets
    x = torch.randn(1, 8)
    torch.testing.assert_close(graph_module(x), module(x), rtol=1e-5, atol=1e-5)
