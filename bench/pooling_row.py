"""One row of the pooling study, through sapool's own CLI: train (resuming), compile, emulate with and without patches.

Each step is a `python -m sapool …` subprocess run on the code this file belongs to, with torch on one thread, so
the study measures exactly what a user gets. The checkpoint is written by `sapool train` after every epoch; a row
interrupted mid-training continues from its last finished epoch with `sapool train --resume`. The finished row is
one dict (see `measure_row`); nothing is recorded for a row that did not finish.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pooling_plan import KD_ALPHA, KD_TEMPERATURE, LABEL_SMOOTHING, LONG_SCHEDULE_FACTOR, Recipe, Row

REPO = Path(__file__).resolve().parents[1]
TARGET = "stm32h7"
FASHION_MNIST_TRAIN_IMAGES = 60_000


class StepFailed(RuntimeError):
    """A sapool step exited non-zero; the message is its last stderr line (sapool's one-line Error)."""


def child_environment() -> dict:
    """One torch/OpenMP thread per process (the machine is shared) and this checkout's sapool on the path."""
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NO_COLOR": "1", "COLUMNS": "120"}


def run_sapool(arguments: list[str], log: Path) -> str:
    """Run `python -m sapool ARGUMENTS`, stderr appended to `log`; returns stdout (the --json document)."""
    command = [sys.executable, "-m", "sapool", *arguments]
    with log.open("a") as stream:
        stream.write(f"$ {' '.join(command)}\n")
        stream.flush()
        finished = subprocess.run(command, stdout=subprocess.PIPE, stderr=stream, text=True, cwd=REPO,
                                  env=child_environment(), check=False)
    if finished.returncode != 0:
        last = [line for line in log.read_text().splitlines() if line.strip()][-1:]
        raise StepFailed(f"sapool {arguments[0]} exited {finished.returncode}: {last[0] if last else ''}")
    return finished.stdout


def completed_epochs(checkpoint: Path) -> int:
    """Epochs already in a checkpoint `sapool train` wrote (0 when there is none yet)."""
    if not checkpoint.is_file():
        return 0
    from sapool.train.checkpoint import load_checkpoint

    return int(load_checkpoint(checkpoint).training_state.get("epoch", 0))


def _model_options(row: Row, recipe: Recipe) -> list[str]:
    return ["--arch", recipe.arch, "--pool", row.pool, "--downsample", row.downsample, "--width", f"{row.width:g}",
            "--input-size", str(recipe.input_size)]


def lever_options(row: Row, recipe: Recipe, work: Path) -> tuple[list[str], int]:
    """The extra `sapool train` options and the epoch count of a row's training lever (pooling_plan.LEVERS)."""
    if row.lever == "label-smoothing":
        return ["--label-smoothing", str(LABEL_SMOOTHING)], recipe.epochs
    if row.lever == "no-augment":
        return ["--augment", "none"], recipe.epochs
    if row.lever == "epochs-30":
        return [], LONG_SCHEDULE_FACTOR * recipe.epochs
    if row.lever.startswith("kd-from-"):
        teacher = work / f"{row.lever.removeprefix('kd-from-')}.pt"
        return ["--teacher", str(teacher), "--kd-alpha", str(KD_ALPHA), "--kd-temperature", str(KD_TEMPERATURE)], \
            recipe.epochs
    return [], recipe.epochs


def train_row(row: Row, recipe: Recipe, checkpoint: Path, log: Path) -> None:
    """Train to the row's epoch count, continuing from the checkpoint's last epoch (epoch lines go to the log)."""
    extra, epochs = lever_options(row, recipe, checkpoint.parent)
    done = completed_epochs(checkpoint)
    if done >= epochs:
        return
    common = ["--epochs", str(epochs), "--threads", "1", "--device", "cpu", "-o", str(checkpoint)]
    if done:
        arguments = ["train", "--resume", str(checkpoint), *common]
    else:
        arguments = ["train", *_model_options(row, recipe), "--data", recipe.data, "--batch-size",
                     str(recipe.batch_size), "--lr", str(recipe.lr), "--optimizer", recipe.optimizer,
                     "--seed", str(row.seed), *extra, *common]
        if recipe.subset is not None:
            arguments += ["--subset", str(recipe.subset)]
    run_sapool(arguments, log)


def training_history(checkpoint: Path) -> list[dict]:
    from sapool.train.checkpoint import load_checkpoint

    return list(load_checkpoint(checkpoint).metrics.get("history", []))


def measure_row(row: Row, recipe: Recipe, work: Path, log: Path) -> dict:
    """Train, compile (int8 top-1 on recipe.eval_samples test images) and emulate one row; the finished record."""
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / f"{row.id}.pt"
    project = work / f"{row.id}-fw"
    started = time.perf_counter()
    train_row(row, recipe, checkpoint, log)
    trained = time.perf_counter()
    history = training_history(checkpoint)
    train_images = recipe.subset or FASHION_MNIST_TRAIN_IMAGES
    profile = json.loads(run_sapool(["train", "--dry-run", "--json", *_model_options(row, recipe)], log))
    compiled = json.loads(run_sapool(
        ["compile", str(checkpoint), "--target", TARGET, "-o", str(project), "--force", "--eval-samples",
         str(recipe.eval_samples), "--json", "-q"], log))
    compiled_at = time.perf_counter()
    emulated = {}
    for patches in ("auto", "off"):
        emulated[patches] = json.loads(run_sapool(
            ["emulate", str(project / "model.tflite"), "--target", TARGET, "--patches", patches, "--json", "-q"], log))
    finished = time.perf_counter()
    last = history[-1]
    return {
        **row.to_dict(),
        "epochs": last["epoch"],
        "float_top1": last["test_accuracy"],
        "test_loss": last["test_loss"],
        "compile_float_top1": compiled["accuracy"]["float_top1"],
        "int8_top1": compiled["accuracy"]["int8_top1"],
        "int8_eval_images": compiled["accuracy"]["images"],
        "params": profile["params"],
        "macs": profile["macs"],
        "planned_int8_peak_bytes": compiled["plan"]["peak_arena_bytes"],
        "firmware_ram_bytes": emulated["auto"]["ram"]["measured_bytes"],
        "firmware_ram_bytes_no_patches": emulated["off"]["ram"]["measured_bytes"],
        "firmware_arena_bytes": emulated["auto"]["ram"]["arena_bytes"],
        "firmware_arena_bytes_no_patches": emulated["off"]["ram"]["arena_bytes"],
        "instructions": emulated["auto"]["instructions_total"],
        "instructions_no_patches": emulated["off"]["instructions_total"],
        "flash_bytes": emulated["auto"]["flash_bytes"],
        "bit_exact": emulated["auto"]["bit_exact"] and emulated["off"]["bit_exact"],
        "target": TARGET,
        "train_seconds_from_history": round(sum(train_images / epoch["images_per_second"] for epoch in history), 1),
        "images_per_second_per_epoch": [round(epoch["images_per_second"], 1) for epoch in history],
        "test_accuracy_per_epoch": [epoch["test_accuracy"] for epoch in history],
        "last_attempt_train_seconds": round(trained - started, 1),
        "compile_seconds": round(compiled_at - trained, 1),
        "emulate_seconds": round(finished - compiled_at, 1),
        "loadavg_at_end": os.getloadavg(),
    }
