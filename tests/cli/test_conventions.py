"""Conventions every command shares (docs/cli_conventions.md): -o -, strict JSON, exit codes for signals and
missing packages, literal names, any stdout encoding, NO_COLOR, case-insensitive targets, one-line usage errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ai_edge_litert import schema_py_generated as fb
from click.testing import CliRunner

from sapool.cli import main
from tests.conftest import shared_model, with_default_sigint
from tests.ir.tflite_models import (make_buffer, make_opcode, make_operator, make_tensor, pack,
                                    skip_chain_model)

REPO = Path(__file__).resolve().parents[2]


def _sapool(*args, env=None, timeout=120, **kwargs):
    """The real command in its own process (exit codes, signals and encodings are process-level)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "sapool", *map(str, args)], capture_output=True, text=True,
                          env=environment, timeout=timeout, **kwargs)


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_dash_output_is_stdout_and_json_is_strict():
    result = CliRunner().invoke(main, ["plan", str(shared_model("ad01_int8")), "-t", "STM32H7", "--json", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert _strict(result.stdout)["target"] == "stm32h7"  # target names are case-insensitive


@pytest.mark.parametrize("args", [["targets", "--format", "json"], ["targets", "stm32f4", "--json"],
                                  ["plan", "MODEL", "--target", "stm32f4", "--format", "json"]])
def test_format_json_on_each_report_command_is_strict_json(args):
    args = [str(shared_model("kws_ref_model")) if a == "MODEL" else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _strict(result.stdout)["schema_version"] == 1


def test_plan_refuses_to_write_its_report_over_its_model(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(shared_model("ad01_int8").read_bytes())
    result = CliRunner().invoke(main, ["plan", str(model), "-t", "stm32h7", "-o", str(model)])
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert model.read_bytes() == shared_model("ad01_int8").read_bytes()


def _hostile_names_model() -> bytes:
    quantization = fb.QuantizationParametersT()
    quantization.scale, quantization.zeroPoint = [0.1], [0]
    subgraph = fb.SubGraphT()
    subgraph.tensors = [make_tensor("[link=http://evil]in[/link]", [1, 8], fb.TensorType.INT8, 0, quantization),
                        make_tensor("out\x1b[31m[/bold]", [1, 8], fb.TensorType.INT8, 0, quantization)]
    subgraph.operators = [make_operator(0, [0], [1])]
    subgraph.inputs, subgraph.outputs = [0], [1]
    model = fb.ModelT()
    model.version = 3
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.CUSTOM, custom=b"[/bold]\x1b]0;title\x07")]
    model.subgraphs, model.buffers = [subgraph], [make_buffer()]
    return pack(model)


@pytest.mark.parametrize("output_format", ["text", "json", "html"])
def test_markup_and_control_characters_in_names_are_printed_literally(tmp_path, output_format):
    model = tmp_path / "hostile.tflite"
    model.write_bytes(_hostile_names_model())
    result = _sapool("plan", model, "--ram-budget", "1K", "--format", output_format)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "Traceback" not in result.stderr
    if output_format == "text":
        assert "CUSTOM:[/bold]\\x1b]0;title\\x07" in result.stdout
    if output_format == "json":
        assert _strict(result.stdout)["buffers"][1]["tensors"] == ["out\x1b[31m[/bold]"]  # JSON escapes it


def test_a_non_utf8_stdout_gets_ascii_symbols_instead_of_a_crash():
    result = _sapool("plan", shared_model("vww_96_int8"), "-t", "stm32h7", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "1x24x24x16" in result.stdout and "38,800 <" in result.stdout


def test_no_color_keeps_styles_off_a_forced_terminal():
    model = shared_model("ad01_int8")
    coloured = _sapool("plan", model, "-t", "stm32h7", env={"FORCE_COLOR": "1", "COLUMNS": "100"})
    plain = _sapool("plan", model, "-t", "stm32h7", env={"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "100"})
    assert "\x1b[1;33m" in coloured.stdout and "33m" not in plain.stdout and "32m" not in plain.stdout


# The command is held inside its model read (the reader replaced by one that says so and sleeps), so the signal
# lands in the middle of real work at a known point; a FIFO as the model no longer blocks (it is refused up front).
_HELD_PLAN = """import sys, time
import sapool.ir.read as reader
def held(*args, **kwargs):
    open(sys.argv[1], "w").close()
    time.sleep(120)
reader.read_tflite = held
from sapool.cli import main
main(["plan", sys.argv[2], "-t", "stm32h7", "-o", sys.argv[3]])
"""


@pytest.mark.parametrize("sent, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_and_terminated_commands_exit_130_and_143_with_one_line(tmp_path, sent, code):
    model, ready, report = tmp_path / "model.tflite", tmp_path / "reading", tmp_path / "r.json"
    model.write_bytes(skip_chain_model(4, seed=1))
    process = subprocess.Popen([sys.executable, "-c", _HELD_PLAN, str(ready), str(model), str(report)],
                               env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=with_default_sigint)
    for _ in range(1200):  # at most 120 s for start-up on a busy machine
        if ready.exists() or process.poll() is not None:
            break
        time.sleep(0.1)
    assert ready.exists(), process.communicate(timeout=30)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code and stderr.startswith("Error: ") and len(stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite", "reading"]


def test_a_missing_python_package_exits_3_with_the_install_command(tmp_path):
    model = tmp_path / "skip20.tflite"
    model.write_bytes(skip_chain_model(20, seed=1))  # multi_order misses LB here, so the exact planner runs
    script = ("import sys; sys.modules['highspy'] = None; from sapool.cli import main; "
              f"main(['plan', {str(model)!r}, '--ram-budget', '1M', '--planner', 'exact'])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: the Python package 'highspy' is not installed")
    assert "pip install 'highspy" in result.stderr and "1.16" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_are_one_line_too():
    result = CliRunner().invoke(main, ["plan", "m.tflite", "--planner", "magic"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: Invalid value for '--planner': 'magic' is not one of 'best', 'greedy', 'multi_order', 'exact'. "
        "(see 'sapool plan --help')"]


def test_target_and_planner_complete_from_their_real_choices():
    from click.shell_completion import ShellComplete

    completion = ShellComplete(main, {}, "sapool", "_SAPOOL_COMPLETE")
    assert {"stm32h7", "stm32f4"} <= {c.value for c in completion.get_completions(["plan", "m", "--target"], "stm")}
    assert {c.value for c in completion.get_completions(["plan", "m", "--planner"], "")} == {
        "best", "greedy", "multi_order", "exact"}
