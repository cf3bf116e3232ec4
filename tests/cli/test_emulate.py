"""`sapool emulate` end to end: a .tflite and a project folder, JSON keys, exit codes 1 (does not fit), 2, 3."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.from_model import generate_project
from sapool.firmware.project import write_project
from sapool.firmware.toolchain import APT_INSTALL
from sapool.targets import get_target
from tests.conftest import shared_model
from tests.firmware.fixture_models import require_firmware_tools

JSON_KEYS = {"schema_version", "model", "target", "board", "inputs", "bit_exact", "mismatches", "instructions_total",
             "instructions_per_mac", "layers", "ram", "flash_bytes"}


def run(*arguments: str):
    return CliRunner().invoke(main, ["emulate", *arguments])


@pytest.mark.emu
def test_json_report_for_a_model_emulated_as_a_real_target(tmp_path):
    require_firmware_tools()
    model = shared_model("kws_ref_model")
    result = run(str(model), "--target", "stm32h7", "--inputs", "3", "--format", "json", "-q",
                 "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert JSON_KEYS <= set(report)
    assert (report["target"], report["board"], report["inputs"]) == ("stm32h7", "qemu-m7", 3)
    assert report["bit_exact"] is True and report["mismatches"] == 0
    assert [layer["op"] for layer in report["layers"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    assert {"planned_bytes", "measured_bytes", "stack_bytes", "static_bytes"} <= set(report["ram"])
    dtcm = report["ram"]["regions"][0]
    assert dtcm["name"] == "DTCM" and dtcm["measured_bytes"] == dtcm["planned_bytes"] == report["ram"]["planned_bytes"]


@pytest.mark.emu
def test_a_compiled_project_folder_runs_and_a_budget_too_small_is_exit_1(tmp_path):
    require_firmware_tools()
    model = shared_model("ad01_int8")
    generated = generate_project(model, get_target("qemu-m4"), ram_budget=4096)
    write_project(tmp_path / "project", generated.files)
    result = run(str(tmp_path / "project"), "--inputs", "2", "-q")
    assert result.exit_code == 0, result.output
    assert "bit-exact with TFLite reference kernels: yes" in result.output
    assert "emulated on qemu-m4" in result.output
    too_small = generated.layout.peak_arena_bytes - 16
    result = run(str(tmp_path / "project"), "--ram-budget", str(too_small), "-q")
    assert result.exit_code == 1
    assert "region budget overflowed by 16 bytes" in result.output


@pytest.mark.emu
def test_a_model_over_the_budget_fails_at_link_time(tmp_path):
    require_firmware_tools()
    result = run(str(shared_model("kws_ref_model")), "--target", "qemu-m7", "--ram-budget", "8K", "-q")
    assert result.exit_code == 1
    assert "Error: the firmware does not fit: region budget overflowed by" in result.output


def test_missing_toolchain_is_exit_3_with_the_apt_command(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if shutil.which("make"):
        (bin_dir / "make").symlink_to(shutil.which("make"))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = run(str(tmp_path / "model.tflite"), "--target", "stm32h7")
    assert result.exit_code == 3
    assert APT_INSTALL in result.output


def test_inputs_and_input_file_are_exclusive(tmp_path):
    (tmp_path / "in.bin").write_bytes(b"\0" * 16)
    result = run(str(tmp_path / "m.tflite"), "--target", "qemu-m7", "--inputs", "2",
                 "--input", str(tmp_path / "in.bin"))
    assert result.exit_code == 2
    assert "either --inputs N or --input FILE" in result.output
