"""`sapool plan` end to end: exit codes, the three formats, -o writing, and one clear line per bad input."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from sapool.cli import main
from tests.conftest import shared_model


def _plan(*args: str):
    return CliRunner().invoke(main, ["plan", *map(str, args)])


def _one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_text_report_fits_stm32h7():
    result = _plan(shared_model("vww_96_int8"), "--target", "stm32h7")
    assert result.exit_code == 0, result.output
    assert "DEPTHWISE_CONV_2D" in result.stdout and "DTCM:0x" in result.stdout
    assert "fits: 38,800 B of activations in DTCM" in result.stdout
    assert result.stderr == ""


def test_json_report_is_consistent_with_the_model(mlperf_model):
    from sapool.backends.c import prepare_for_c
    from sapool.ir.read import read_tflite

    result = _plan(mlperf_model, "--target", "stm32h7", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1 and report["model"] == mlperf_model.name and report["target"] == "stm32h7"
    assert report["fits"] is True and report["planner"] == "best"
    assert len(report["layers"]) == len(prepare_for_c(read_tflite(mlperf_model)).ops)
    max_live = max(layer["live_bytes"] for layer in report["layers"])
    assert report["lower_bound_bytes"] == max_live == report["peak_live_bytes"]
    assert report["lower_bound_bytes"] <= report["peak_arena_bytes"] <= report["lower_bound_bytes"] * 1.01
    assert report["peak_arena_bytes"] == sum(region["used_bytes"] for region in report["regions"])
    assert all(region["used_bytes"] <= region["size_bytes"] for region in report["regions"])
    assert [layer["index"] for layer in report["layers"]] == list(range(len(report["layers"])))


def test_kws_over_an_8k_budget_prints_the_report_then_fails_naming_layer_and_overflow():
    result = _plan(shared_model("kws_ref_model"), "--target", "stm32h7", "--ram-budget", "8K", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["fits"] is False and report["ram_budget_bytes"] == 8192
    assert report["regions"] == [
        {"name": "budget", "base": 0, "size_bytes": 8192, "used_bytes": 12_672, "headroom_bytes": -4480,
         "planner": report["regions"][0]["planner"], "proven_optimal": True},
    ]
    error = _one_error_line(result)
    assert "layer 0 (CONV_2D" in error and "4,480 B over" in error  # the rest runs in place; 80 B of im2col


def test_vww_on_stm32f4_fits_in_sram1_alone():
    result = _plan(shared_model("vww_96_int8"), "--target", "stm32f4", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    used = {region["name"]: region["used_bytes"] for region in report["regions"]}
    assert used == {"SRAM1": 38_800, "SRAM2": 0} and report["split"] is False
    assert {buffer["region"] for buffer in report["buffers"]} == {"SRAM1"}
    assert all(0x2000_0000 <= b["address"] < 0x2000_0000 + 112 * 1024 for b in report["buffers"])


@pytest.mark.parametrize("planner", ["greedy", "exact"])
def test_planner_option(planner):
    result = _plan(shared_model("kws_ref_model"), "--target", "stm32h7", "--planner", planner, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["planners_used"] == [planner]


def test_html_to_file_overwrites_an_existing_file(tmp_path):
    output = tmp_path / "report.html"
    output.write_text("old contents")
    result = _plan(shared_model("ad01_int8"), "--target", "nrf52840", "--format", "html", "-o", output)
    assert result.exit_code == 0, result.output
    root = ET.fromstring(output.read_text().split("\n", 1)[1])
    boxes = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "buffer"]
    assert len(boxes) == 11  # ad01: the input plus ten FULLY_CONNECTED outputs
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]
    assert result.stdout == f"wrote html report to {output}\n" and result.stderr == ""


def test_report_is_written_even_when_the_model_does_not_fit(tmp_path):
    output = tmp_path / "kws.json"
    result = _plan(shared_model("kws_ref_model"), "--ram-budget", "8192", "--format", "json", "-o", output)
    assert result.exit_code == 1
    assert json.loads(output.read_text())["fits"] is False
    assert "does not fit" in _one_error_line(result)


def test_text_report_to_file(tmp_path):
    output = tmp_path / "plan.txt"
    result = _plan(shared_model("kws_ref_model"), "--target", "stm32h7", "-o", output)
    assert result.exit_code == 0
    text = output.read_text()
    assert "SOFTMAX" in text and max(map(len, text.splitlines())) <= 100


def _corrupt(tmp_path):
    path = tmp_path / "corrupt.tflite"
    path.write_bytes(b"\x18\x00\x00\x00TFL3" + bytes(range(256)) * 3)
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (lambda tmp: [tmp / "missing.tflite", "--target", "stm32h7"], "no such file"),
        (lambda tmp: [_corrupt(tmp), "--target", "stm32h7"], "corrupt.tflite"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h8"], "did you mean: stm32h7"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h7", "--ram-budget", "8Q"], "8Q"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h7", "--ram-budget", "0"], "positive"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h7", "--planner", "magic"], "magic"),
        (lambda tmp: [shared_model("kws_ref_model")], "--target"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h7", "-o", tmp / "no" / "dir" / "r.json"],
         "does not exist"),
        (lambda tmp: [shared_model("kws_ref_model"), "--target", "stm32h7", "-o", tmp], "is a directory"),
    ],
    ids=["missing", "corrupt", "unknown-target", "bad-budget", "zero-budget", "bad-planner", "no-target",
         "missing-dir", "output-is-dir"],
)
def test_bad_input_gives_one_error_line_exit_2_and_no_output(tmp_path, args, message):
    output = tmp_path / "out.json"
    arguments = args(tmp_path)
    if "-o" not in arguments:
        arguments += ["-o", output]
    before = set(tmp_path.rglob("*"))
    result = _plan(*arguments)
    assert result.exit_code == 2
    assert message in _one_error_line(result)
    assert set(tmp_path.rglob("*")) == before  # nothing written, no temporary left behind


def test_output_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _plan(shared_model("ad01_int8"), "--target", "stm32h7", "-o", blocker / "r.json")
    assert result.exit_code == 2
    assert "cannot write report" in _one_error_line(result)


def test_plan_imports_neither_torch_nor_tensorflow():
    """Run the real command in a fresh interpreter and list the heavy frameworks it loaded."""
    script = (
        "import sys\n"
        "from sapool.cli import main\n"
        f"sys.argv = ['sapool', 'plan', {str(shared_model('vww_96_int8'))!r}, '--target', 'stm32h7',"
        " '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'tflite_micro'))\n"
        "print('HEAVY', heavy, 'CODE', code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "HEAVY [] CODE 0" in result.stderr, result.stderr
    assert json.loads(result.stdout)["peak_arena_bytes"] == 38_800


def test_patches_option_reports_the_stage_its_recompute_and_every_bound():
    auto = json.loads(_plan(shared_model("vww_96_int8"), "-t", "stm32h7", "--format", "json").stdout)
    (stage,) = auto["patch_stages"]
    assert (stage["layer"], stage["ops"], stage["grid"]) == (0, [0, 1, 2, 3], [8, 8])
    assert stage["patched_macs"] - stage["macs"] == stage["extra_macs"] == 674_912
    assert auto["layers"][0]["patches"] == "ops 0-3 in 8x8 patches" and auto["extra_macs_percent"] == 9.01
    assert (auto["lower_bound_bytes"], auto["unpatched_lower_bound_bytes"], auto["tensor_lower_bound_bytes"]) == (
        38_800, 55_296, 55_296)
    off = json.loads(_plan(shared_model("vww_96_int8"), "-t", "stm32h7", "--patches", "off", "--format",
                           "json").stdout)
    assert off["patch_stages"] == [] and off["peak_arena_bytes"] == off["lower_bound_bytes"] == 55_296
    text = " ".join(_plan(shared_model("vww_96_int8"), "-t", "stm32h7").stdout.split())
    assert "layer 0 runs ops 0, 1, 2, 3 in 8x8 patches" in text and "without patches the bound is 55,296 B" in text
    assert _plan(shared_model("vww_96_int8"), "-t", "stm32h7", "--patches", "on").exit_code == 2
