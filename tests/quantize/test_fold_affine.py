"""fold-bias-add / fold-batch-norm on the float graph: a separate per-channel bias ADD, and a BatchNorm written as
MUL + ADD, after a bias-free conv or linear layer end up in that layer. Oracles: the float module itself (the
folded graph computes the same values) and the int8 export (no ADD or MUL left, one tensor fewer per fold)."""

import torch
from torch import nn

from sapool.ir.read import read_tflite_bytes
from sapool.quantize.fold_affine import fold_affine_into_layers


class SeparateBiases(nn.Module):
    """CNTK-style conv + Add(bias), a BatchNorm as x·s + t after a conv, a linear layer + Add(bias)."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bias = nn.Parameter(torch.randn(8, 1, 1, generator=generator))
        self.second = nn.Conv2d(8, 6, 1, bias=False)
        self.scale = nn.Parameter(torch.rand(1, 6, 1, 1, generator=generator) + 0.5)
        self.shift = nn.Parameter(torch.randn(1, 6, 1, 1, generator=generator))
        self.linear = nn.Linear(6, 4, bias=False)
        self.linear_bias = nn.Parameter(torch.randn(4, generator=generator))

    def forward(self, x):
        x = torch.relu(self.conv(x) + self.bias)
        x = torch.relu(self.second(x) * self.scale + self.shift)
        return self.linear(x.mean((2, 3))) + self.linear_bias


def test_folded_graph_computes_what_the_module_computes():
    module = SeparateBiases().eval()
    example = torch.randn(2, 3, 8, 8)
    graph_module = torch.export.export(module, (example,)).module()
    assert fold_affine_into_layers(graph_module) == 4  # the conv bias, the BN's MUL and ADD, the linear bias
    graph_module.recompile()
    targets = {node.target for node in graph_module.graph.nodes if node.op == "call_function"}
    assert not targets & {torch.ops.aten.add.Tensor, torch.ops.aten.mul.Tensor}
    inputs = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(graph_module(inputs), module(inputs), rtol=1e-5, atol=1e-5)


def test_a_constant_that_is_not_per_channel_is_kept():
    class PerPixel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1, bias=False)
            self.offset = nn.Parameter(torch.randn(1, 1, 5, 5))

        def forward(self, x):
            return self.conv(x) + self.offset

    graph_module = torch.export.export(PerPixel().eval(), (torch.randn(1, 3, 5, 5),)).module()
    assert fold_affine_into_layers(graph_module) == 0


def test_the_int8_export_has_no_separate_add_or_mul():
    from sapool.quantize.convert import quantize_to_tflite

    torch.manual_seed(0)
    calibration = [torch.randn(1, 3, 8, 8) for _ in range(4)]
    quantized = quantize_to_tflite(SeparateBiases().eval(), (1, 3, 8, 8), calibration)
    opcodes = [op.opcode for op in read_tflite_bytes(quantized.tflite, "folded").ops]
    assert "ADD" not in opcodes and "MUL" not in opcodes, opcodes
