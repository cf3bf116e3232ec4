"""Annotator rules for the ops third-party models use (leaky_relu, hardswish, gelu, silu, prelu, elementwise
maximum/minimum, a batch_norm no conv precedes): one torch network with all of them quantises to an all-int8
.tflite, and the C backend runs it bit-exact with TFLite's reference kernels (ASan/UBSan host build)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.quantize.convert import quantize_to_tflite
from tests.backends.c.conftest import compile_for_host, reference_outputs

SHAPE = (1, 3, 10, 10)


class ThirdPartyActivations(nn.Module):
    """batch_norm → conv → leaky_relu; branches: hardswish, gelu (exact and tanh), silu, prelu (one slope per
    channel), maximum and minimum of two convs."""

    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(3)
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.left, self.right = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)
        self.prelu = nn.PReLU(8)
        self.head = nn.Conv2d(56, 4, 1)
        with torch.no_grad():  # statistics and slopes a trained network would have, not the defaults
            self.norm.running_mean.uniform_(-1, 1)
            self.norm.running_var.uniform_(0.5, 2)
            self.norm.weight.uniform_(0.5, 2)
            self.norm.bias.uniform_(-1, 1)
            self.prelu.weight.uniform_(0.05, 0.4)

    def forward(self, x):
        x = F.leaky_relu(self.stem(self.norm(x)), 0.1)
        left, right = self.left(x), self.right(x)
        branches = [F.hardswish(left), F.gelu(right), F.gelu(left, approximate="tanh"), F.silu(right),
                    self.prelu(left), torch.maximum(left, right), torch.minimum(left, right)]
        return self.head(torch.cat(branches, dim=1))


@pytest.fixture(scope="module")
def quantized():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    calibration = [torch.randn(SHAPE) for _ in range(16)]
    return quantize_to_tflite(ThirdPartyActivations().eval(), SHAPE, calibration)


def test_every_activation_quantises_to_an_int8_op(quantized):
    assert quantized.all_int8 and quantized.float_ops == ()
    assert {"LEAKY_RELU", "HARD_SWISH", "GELU", "LOGISTIC", "MUL", "MAXIMUM", "MINIMUM", "RELU", "SUB", "ADD"} <= set(
        quantized.ops)


def test_the_c_backend_runs_them_bit_exact(quantized, tmp_path):
    graph = read_tflite_bytes(quantized.tflite, "activations")
    inputs = np.random.default_rng(1).integers(-128, 128, (6, 10 * 10 * 3), dtype=np.int8)
    expected = reference_outputs(quantized.tflite, inputs)
    _, _, executable = compile_for_host(graph, tmp_path)
    assert np.array_equal(run_host(executable, inputs, expected.shape[1]), expected)
