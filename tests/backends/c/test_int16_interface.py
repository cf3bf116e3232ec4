"""int16 graph input and output around an int8 body (third-party audio front ends): the C backend's QUANTIZE
int16 → int8 and int8 → int16 are TFLite's Requantize, bit-exact with its reference kernels; `sapool compile`
takes such a .tflite and its firmware, emulated in QEMU, matches them too."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sapool.backends.c.host import run_host
from sapool.cli import main
from sapool.ir.read import read_tflite_bytes
from sapool.verify.interpreters import run_model
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.int16_models import UNITS, int16_inputs, int16_interface_model


@pytest.mark.parametrize("seed", range(4))
def test_the_int16_interface_is_bit_exact(tmp_path, seed):
    model = int16_interface_model(seed)
    inputs = int16_inputs(32, seed)
    expected = run_model(model, inputs, "litert-ref").outputs
    assert expected.dtype == np.int16 and len(np.unique(expected)) > 8
    # the oracle is LiteRT on the model as written, so FULLY_CONNECTED rounds as LiteRT does
    _, _, executable = compile_for_host(read_tflite_bytes(model, "int16"), tmp_path, rounding="tflite")
    outputs = run_host(executable, inputs.view(np.int8).reshape(len(inputs), -1), UNITS * 2)
    np.testing.assert_array_equal(np.ascontiguousarray(outputs).view(np.int16).reshape(expected.shape), expected)


@pytest.mark.emu
def test_compile_and_emulate_an_int16_interface_model(tmp_path):
    from tests.firmware.fixture_models import require_firmware_tools

    require_firmware_tools()
    path = tmp_path / "audio.tflite"
    path.write_bytes(int16_interface_model(0))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(path), "-t", "stm32h7", "-o", str(out), "--format", "json",
                                       "-q"])
    assert result.exit_code == 0, result.output
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "4", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    assert json.loads(emulated.stdout)["bit_exact"] is True
