"""One model × front-end pair of the coverage suite: export the torch model as a user would, `sapool compile` it,
check that every activation is int8, then `sapool emulate` the project in QEMU, bit for bit against TFLite's
reference kernels.

The CLI is what a user runs, so the pair goes through it: `run_cli(args)` returns (exit code, stdout, stderr);
the tests pass an in-process click runner, `bench/coverage.py` a subprocess per command. A failing pair records
the stage it failed at and its reason: the command's `Error:` line (or the last line of anything else).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

FRONT_ENDS = ("pt2", "onnx-dynamo", "onnx-torchscript")
TARGET = "qemu-m7"
CALIBRATION_SAMPLES = 16
EMULATED_INPUTS = 4

RunCli = Callable[[list[str]], tuple[int, str, str]]


@dataclass(frozen=True)
class PairResult:
    model: str
    front_end: str
    passed: bool
    stage: str  # "export", "compile", "int8", "emulate", or "passed"
    reason: str = ""


def export(model: torch.nn.Module, input_shape: tuple[int, ...], front_end: str, folder: Path) -> Path:
    """`model` saved the way a user of `front_end` saves it: torch.export.save, or torch.onnx.export (dynamo or
    the TorchScript exporter), with a fixed input shape."""
    example = (torch.randn(*input_shape, generator=torch.Generator().manual_seed(0)),)
    if front_end == "pt2":
        path = folder / "model.pt2"
        torch.export.save(torch.export.export(model, example), path)
        return path
    path = folder / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, onnxscript's notes
        torch.onnx.export(model, example, str(path), dynamo=front_end == "onnx-dynamo", verbose=False)
    return path


def check_pair(name: str, model: torch.nn.Module, input_shape: tuple[int, ...], front_end: str, folder: Path,
               run_cli: RunCli) -> PairResult:
    """Export → compile (random calibration: coverage, not accuracy) → all int8 → emulate bit-exact."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = export(model, input_shape, front_end, folder)
    except Exception as err:  # noqa: BLE001 (the exporter's own failure is the user's, reported as such)
        return PairResult(name, front_end, False, "export", first_line(str(err)) or type(err).__name__)
    project = folder / "project"
    code, out, err = run_cli(["compile", str(path), "--target", TARGET, "-o", str(project), "--calib", "random",
                              "--calib-samples", str(CALIBRATION_SAMPLES), "--no-build", "--format", "json", "-q"])
    if code != 0:
        return PairResult(name, front_end, False, "compile", error_line(err))
    if not json.loads(out)["int8"]["all_int8"]:
        return PairResult(name, front_end, False, "int8", "the compiled model has non-int8 activations")
    code, out, err = run_cli(["emulate", str(project), "--inputs", str(EMULATED_INPUTS), "--format", "json", "-q"])
    if code not in (0, 1) or not out:
        return PairResult(name, front_end, False, "emulate", error_line(err))
    report = json.loads(out)
    if not report["bit_exact"]:
        return PairResult(name, front_end, False, "emulate",
                          f"{report['mismatches']} of {report['inputs']} outputs differ from TFLite's reference "
                          f"kernels (up to {report['max_lsb_diff']} LSB)")
    return PairResult(name, front_end, True, "passed")


def error_line(stderr: str) -> str:
    """The `Error:` line of a failed command, else its last non-empty line (a traceback's exception)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return (errors or lines or ["(no output)"])[-1]


def first_line(text: str) -> str:
    """The first line, without terminal colour codes (torch's exporter colours its messages)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", (text.strip().splitlines() or [""])[0])[:300]
