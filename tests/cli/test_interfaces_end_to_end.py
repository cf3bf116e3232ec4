"""Third-party interfaces end to end: `sapool compile` and `sapool emulate` (QEMU) on int8 models with a float32
interface (QUANTIZE in, DEQUANTIZE out, the TFLite converter's default) and with two inputs and three outputs.
The firmware's outputs must equal TFLite's reference kernels byte for byte (float outputs included)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.emulate import emulate
from sapool.ir.read import read_tflite
from sapool.verify.packing import pack, unpack
from tests.backends.c.interface_models import float_interface_cnn, two_in_three_out
from tests.backends.c.single_op_models import build_model
from tests.firmware.fixture_models import require_firmware_tools

pytestmark = pytest.mark.emu


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interfaces")
    paths = {"cnn": folder / "float_cnn.tflite", "multi": folder / "two_in_three_out.tflite"}
    paths["cnn"].write_bytes(float_interface_cnn())
    paths["multi"].write_bytes(two_in_three_out())
    return paths


def test_a_float_interface_model_compiles_and_runs_bit_exact_in_qemu(models, tmp_path):
    require_firmware_tools()
    out = tmp_path / "cnn"
    result = CliRunner().invoke(main, ["compile", str(models["cnn"]), "--target", "stm32h7", "-o", str(out),
                                       "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["int8"]["all_int8"] is True and document["verify"]["max_lsb_diff"] == 0
    # the float32 input (8·8·3·4 B) and its int8 copy are live together at the start: the planner counts 4 B each
    assert document["plan"]["peak_arena_bytes"] == 8 * 8 * 3 * 4 + 8 * 8 * 3
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "4", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    report = json.loads(emulated.stdout)
    assert report["bit_exact"] is True and [layer["op"] for layer in report["layers"]] == [
        "QUANTIZE", "CONV_2D", "MAX_POOL_2D", "DEQUANTIZE"]


def test_two_inputs_and_three_outputs_run_bit_exact_in_qemu_on_a_file_of_inputs(models, tmp_path):
    """--input FILE carries packed rows: float32 x then int8 y; the report compares all three outputs."""
    require_firmware_tools()
    graph = read_tflite(models["multi"])
    rng = np.random.default_rng(5)
    x = rng.normal(0, 2, (3, 6, 6, 4)).astype(np.float32)
    y = rng.integers(-128, 128, (3, 6, 6, 4), dtype=np.int8)
    rows = pack([x, y])
    assert all(np.array_equal(a, b) for a, b in zip(unpack(graph, graph.inputs, rows), (x, y), strict=True))
    inputs = tmp_path / "inputs.bin"
    inputs.write_bytes(rows.tobytes())
    report = emulate(models["multi"], "qemu-m7", tmp_path, input_file=inputs, kernels="reference")
    assert report.bit_exact and report.inputs == 3 and report.max_lsb_diff == 0
    assert [layer.op for layer in report.layers] == ["QUANTIZE", "ADD", "LOGISTIC", "DEQUANTIZE", "AVERAGE_POOL_2D"]


def test_an_op_tflite_micro_lacks_skips_its_comparison_and_export_but_not_the_firmware(tmp_path):
    """GELU has no TFLite-Micro kernel: compile says so once, writes no tflm/, and the firmware is bit-exact."""
    require_firmware_tools()
    model = tmp_path / "gelu.tflite"
    model.write_bytes(build_model("GELU", 3).content)  # input [1, 2, 2, 2]: a batch of one, as emulate needs
    out = tmp_path / "gelu"
    result = CliRunner().invoke(main, ["compile", str(model), "--target", "stm32h7", "-o", str(out), "--format",
                                       "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [step["name"] for step in document["steps"]] == ["load", "read", "plan", "generate-c", "build",
                                                               "latency"]
    assert document["verify"] is None and document["tflm"] is None and not (out / "tflm").exists()
    assert [w for w in document["warnings"] if "TFLite-Micro has no GELU kernel" in w]
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "3", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    assert json.loads(emulated.stdout)["bit_exact"] is True
