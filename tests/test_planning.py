"""One peak and one fit answer per model, target and options, whatever the command (sapool/planning.py).

Each test compares what two or more commands wrote on their own: `sapool plan`'s JSON, `sapool compile`'s
report.json and project manifest, the project `sapool emulate MODEL.tflite` generates (its manifest), `sapool
train --dry-run`'s JSON and `sapool prune`'s JSON. A command that planned with other settings (kernel scratch left
out, no patch stage, another graph) would disagree with the others here.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.from_model import generate_project
from sapool.targets import get_target
from sapool.data.datasets import FASHION_MNIST_DIR
from tests.conftest import MODEL_NAMES, shared_model
from tests.verify.int8_models import tiny_int8_bytes


def _sapool(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _plan(model: Path, *options) -> tuple[int, bool, int]:
    """(peak, fits, exit code) as `sapool plan --json` prints them."""
    result = _sapool("plan", model, "--json", *options)
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    return document["peak_arena_bytes"], document["fits"], result.exit_code


def _compile(model: Path, out: Path, *options) -> tuple[int | None, bool, int, dict | None]:
    """(peak, fits, exit code, project manifest) from `sapool compile`'s report.json and sapool_project.json; a
    model that does not fit writes nothing (peak None, fits False)."""
    result = _sapool("compile", model, "-o", out, "--no-build", "-q", *options)
    if result.exit_code == 1:
        assert not out.exists() and "does not fit" in result.stderr
        return None, False, 1, None
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "report.json").read_text())["plan"]
    return plan["peak_arena_bytes"], plan["fits"], 0, json.loads((out / "sapool_project.json").read_text())


def _emulated(model: Path, target: str, ram_budget: int | None = None) -> tuple[int, bool]:
    """(peak, fits) of the project `sapool emulate MODEL.tflite` builds, from its manifest."""
    manifest = generate_project(model, get_target(target), ram_budget=ram_budget).manifest
    fits = all(region["used_bytes"] <= region["size_bytes"] for region in manifest.planned_regions)
    return manifest.planned_arena_bytes, fits


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_plan_compile_and_emulate_agree_on_the_shared_models(name, tmp_path):
    model = shared_model(name)
    planned, plan_fits, _ = _plan(model, "--target", "stm32h7")
    compiled, compile_fits, _, manifest = _compile(model, tmp_path / "out", "--target", "stm32h7",
                                                  "--no-offline-plan")
    assert compiled == planned == manifest["planned_arena_bytes"] and compile_fits == plan_fits
    assert _emulated(model, "stm32h7") == (planned, plan_fits)


def test_every_command_answers_the_same_around_the_peak_with_kernel_scratch(tmp_path):
    """kws_ref_model's first CONV_2D has 80 B of im2col scratch: a plan that left it out said "fits" at 12,600 B
    while compile said 72 B over and the emulated firmware failed to link."""
    model = shared_model("kws_ref_model")
    peak, _, _ = _plan(model, "--target", "stm32h7")
    for budget in (12_600, peak - 1, peak, peak + 16):
        planned, plan_fits, plan_exit = _plan(model, "--ram-budget", budget)
        assert planned == peak and plan_fits == (budget >= peak) and plan_exit == (0 if plan_fits else 1)
        assert _emulated(model, "stm32h7", budget) == (peak, plan_fits)
        if budget in (12_600, peak):  # compile, the costly one, on the budget and at the peak
            compiled, compile_fits, compile_exit, _ = _compile(model, tmp_path / str(budget), "--target", "stm32h7",
                                                              "--ram-budget", budget, "--no-offline-plan")
            assert (compile_fits, compile_exit) == (plan_fits, plan_exit) and compiled in (None, peak)


def test_a_built_graph_fits_from_its_peak_up_in_every_command(tmp_path):
    model = tmp_path / "tiny.tflite"
    model.write_bytes(tiny_int8_bytes())
    peak, _, _ = _plan(model, "--target", "stm32f4")
    for budget in (peak - 16, peak - 1, peak, peak + 1):
        planned, plan_fits, plan_exit = _plan(model, "--ram-budget", budget)
        assert (planned, plan_fits) == (peak, budget >= peak)
        assert _emulated(model, "stm32f4", budget) == (peak, plan_fits)
        if budget in (peak - 1, peak):
            compiled, compile_fits, compile_exit, _ = _compile(model, tmp_path / str(budget), "--target", "stm32f4",
                                                              "--ram-budget", budget)
            assert (compile_fits, compile_exit) == (plan_fits, plan_exit) and compiled in (None, peak)


NETWORK = ["--arch", "mcunet", "--width", "0.25", "--pool", "sap-nowin", "--input-size", "64",
           "--downsample", "aggressive"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    if not FASHION_MNIST_DIR.is_dir():
        pytest.skip("dataset-fashion-mnist not installed")
    path = tmp_path_factory.mktemp("trained") / "model.pt"
    result = _sapool("train", *NETWORK, "--subset", "64", "--epochs", "1", "--batch-size", "32", "-q", "-o", path)
    assert result.exit_code == 0, result.output
    return path


FEW = ["--calib", "random", "--calib-samples", "8", "--eval-samples", "16"]


def test_train_dry_run_prune_compile_and_plan_agree_on_a_checkpoint(checkpoint, tmp_path):
    """The dry run and prune plan the torch network before any export, compile and plan the int8 export of the
    pruned checkpoint: the same figures, patch stage included. The budget sits just under the unpruned peak, so
    prune must cut channels and stop where its plan first fits."""
    dry_run = json.loads(_sapool("train", *NETWORK, "--dry-run", "--format", "json").stdout)["peak_arena_bytes"]
    budget = dry_run - 256
    pruned = tmp_path / "pruned.pt"
    result = _sapool("prune", checkpoint, "--ram-budget", budget, "--subset", "64", "--max-accuracy-drop", "100",
                     "--json", "-q", "-o", pruned)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["before"]["peak_arena_bytes"] == dry_run and summary["before"]["fits"] is False
    after = summary["after"]
    assert after["fits"] is True and after["peak_arena_bytes"] <= budget
    peak, fits, _, manifest = _compile(pruned, tmp_path / "out", "--target", "stm32h7", "--ram-budget", budget, *FEW)
    assert (peak, fits) == (after["peak_arena_bytes"], True) and manifest["planned_arena_bytes"] == peak
    assert _plan(tmp_path / "out" / "model.tflite", "--ram-budget", budget) == (peak, True, 0)
