"""`sapool compile` of plain-torch models a user exports: an MLP autoencoder on flat features (.pt2) and a tiny
transformer (LayerNorm, nn.MultiheadAttention, GELU) as .pt2 and as ONNX (TorchScript exporter). Each comes out
all-int8, and its firmware, emulated in QEMU, matches TFLite's reference kernels bit for bit."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from click.testing import CliRunner

from sapool.cli import main
from tests.firmware.fixture_models import require_firmware_tools
from tests.quantize.transformer_models import make

pytestmark = pytest.mark.emu


@pytest.mark.parametrize(("name", "suffix"), [("mlp", ".pt2"), ("transformer", ".pt2"), ("transformer", ".onnx")])
def test_the_model_compiles_all_int8_and_its_firmware_is_bit_exact(tmp_path, name, suffix):
    require_firmware_tools()
    module, shape = make(name)
    path = tmp_path / f"{name}{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if suffix == ".pt2":
            torch.export.save(torch.export.export(module, (torch.randn(shape),)), path)
        else:
            torch.onnx.export(module, (torch.randn(shape),), str(path), dynamo=False, verbose=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(path), "-t", "stm32h7", "-o", str(out), "--calib", "random",
                                       "--calib-samples", "16", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["int8"]["all_int8"]
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "4", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    assert json.loads(emulated.stdout)["bit_exact"] is True
