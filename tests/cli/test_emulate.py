"""`sapool emulate` end to end: a .tflite and a project folder, JSON keys, exit codes 1 (does not fit), 2, 3."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.toolchain import APT_INSTALL
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
def test_a_folder_from_sapool_compile_runs_and_a_budget_too_small_is_exit_1(tmp_path):
    require_firmware_tools()
    project = tmp_path / "project"
    compiled = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), "--target", "qemu-m4",
                                         "--ram-budget", "4K", "-o", str(project), "-q"])
    assert compiled.exit_code == 0, compiled.output
    result = run(str(project), "--inputs", "2", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["target"], report["board"], report["bit_exact"]) == ("qemu-m4", "qemu-m4", True)
    assert report["inputs_description"] == "2 shipped samples"  # found through the project's source model
    planned = report["ram"]["planned_bytes"]
    assert report["ram"]["regions"] == [{"name": "budget", "size_bytes": 4096, "planned_bytes": planned,
                                         "measured_bytes": planned}]
    result = run(str(project), "--ram-budget", str(planned - 16), "-q")
    assert result.exit_code == 1
    assert "region budget overflowed by 16 bytes" in result.output
    with (project / "Makefile").open("a") as makefile:  # an edit: make would run it
        makefile.write("# edited by hand\n")
    refused = run(str(project), "--inputs", "1", "-q")
    lines = refused.stderr.strip().splitlines()
    assert refused.exit_code == 2 and len(lines) == 1 and "Makefile differs" in lines[0], refused.output
    assert run(str(project), "--inputs", "1", "-q", "--trust-project").exit_code == 0


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


def test_a_billion_inputs_are_refused_up_front(tmp_path):
    result = run(str(tmp_path / "m.tflite"), "--target", "qemu-m7", "--inputs", str(10 ** 12))
    assert result.exit_code == 2 and "--inputs" in result.output


def test_inputs_and_input_file_are_exclusive(tmp_path):
    (tmp_path / "in.bin").write_bytes(b"\0" * 16)
    result = run(str(tmp_path / "m.tflite"), "--target", "qemu-m7", "--inputs", "2",
                 "--input", str(tmp_path / "in.bin"))
    assert result.exit_code == 2
    assert "either --inputs N or --input FILE" in result.output


@pytest.mark.emu
def test_inputs_from_a_raw_file(tmp_path):
    require_firmware_tools()
    sample = shared_model("kws_ref_model").parent / "samples" / "kws01" / "kws_sample0_int8.bin"
    if not sample.is_file():
        pytest.skip(f"{sample} not present")
    result = run(str(shared_model("kws_ref_model")), "--target", "qemu-m55", "--input", str(sample), "-q")
    assert result.exit_code == 0, result.output
    assert f"inputs: 1 (1 from {sample})" in result.output
    assert "emulated on qemu-m55 (QEMU mps3-an547)" in result.output
    assert "bit-exact with TFLite reference kernels: yes" in result.output
