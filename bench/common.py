"""Helpers shared by the bench/ scripts: where the models are, timing, and writing bench/results/*.json.

Bench scripts measure; they are run by `make bench`, never by the unit tests. Each prints a table and writes
one JSON file whose numbers are the ones in the table.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from sapool.outputs import write_json_atomically

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SHARED_MODELS = REPO.parent / "shared" / "models" / "mlperf_tiny"
MODEL_NAMES = ("vww_96_int8", "pretrainedResnet_quant", "kws_ref_model", "ad01_int8")


def available_models(names=MODEL_NAMES, folder: Path = SHARED_MODELS) -> Iterator[tuple[str, Path]]:
    """(name, path) of each model present; an absent one is skipped with a line on stderr saying why."""
    for name in names:
        path = folder / f"{name}.tflite"
        if path.is_file():
            yield name, path
        else:
            print(f"skipping {name}: {path} not found (the shared models folder is absent)", file=sys.stderr)


def fastest(run: Callable[[], object], repeat: int = 3, slow_s: float = 0.5) -> tuple[object, float]:
    """The result of `run` and its fastest wall time over `repeat` runs (one run when a run takes > slow_s)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
        if best > slow_s:
            break
    return result, best


def environment() -> dict:
    """Where the numbers were measured, so that results from different machines are not mixed up."""
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def write_results(name: str, document: dict) -> Path:
    """Write bench/results/<name>.json atomically (sapool.outputs)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    write_json_atomically(path, document)
    return path
