"""Softmax over any axis but the batch's: TFLite's SOFTMAX normalises the last axis, so the quantiser moves another
axis there (rows of a 2-D view); the result is all-int8 and the C backend runs it bit-exact with TFLite's
reference kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.quantize.convert import quantize_to_tflite
from tests.backends.c.conftest import compile_for_host, reference_outputs


class ImageSoftmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim, self.conv = dim, nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.softmax(self.conv(x), dim=self.dim)


class TokenSoftmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim, self.fc = dim, nn.Linear(16, 16)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=self.dim)


@pytest.mark.parametrize(("module", "shape"), [(ImageSoftmax(2), (1, 3, 6, 5)), (ImageSoftmax(3), (1, 3, 6, 5)),
                                               (TokenSoftmax(1), (1, 8, 16))], ids=["height", "width", "tokens"])
def test_softmax_on_another_axis_is_int8_and_bit_exact(tmp_path, module, shape):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    calibration = [torch.randn(shape) for _ in range(8)]
    quantized = quantize_to_tflite(module.eval(), shape, calibration)
    assert quantized.all_int8 and "SOFTMAX" in quantized.ops
    inputs = np.random.default_rng(0).integers(-128, 128, (4, int(np.prod(shape))), dtype=np.int8)
    expected = reference_outputs(quantized.tflite, inputs)
    _, _, executable = compile_for_host(read_tflite_bytes(quantized.tflite, "softmax"), tmp_path)
    assert np.array_equal(run_host(executable, inputs, expected.shape[1]), expected)
    x = torch.randn(shape)
    with torch.no_grad():  # the rewrite is exact in float: the int8 result follows the float one
        from sapool.quantize.int8_run import run_int8

        int8 = run_int8(quantized.tflite, read_tflite_bytes(quantized.tflite, "softmax"), x.numpy()).outputs
        assert np.abs(int8.reshape(module(x).shape) - module(x).numpy()).max() < 0.05
