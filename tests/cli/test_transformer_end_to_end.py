"""`sapool compile` of plain-torch .pt2 files a user exports: an MLP autoencoder on flat features and a tiny
transformer (LayerNorm, nn.MultiheadAttention, GELU). Both come out all-int8, and their firmware, emulated in
QEMU, matches TFLite's reference kernels bit for bit."""

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


@pytest.mark.parametrize("name", ["mlp", "transformer"])
def test_the_pt2_compiles_all_int8_and_its_firmware_is_bit_exact(tmp_path, name):
    require_firmware_tools()
    module, shape = make(name)
    path = tmp_path / f"{name}.pt2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.save(torch.export.export(module, (torch.randn(shape),)), path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(path), "-t", "stm32h7", "-o", str(out), "--calib", "random",
                                       "--calib-samples", "16", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["int8"]["all_int8"]
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "4", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    assert json.loads(emulated.stdout)["bit_exact"] is True
