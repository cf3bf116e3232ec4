"""sapool's activation arena vs TFLite-Micro's, on the shared MLPerf Tiny models.

For each model: TFLite-Micro's arena as its own Python interpreter allocates it (total = head + tail; head is the
activation arena its greedy planner lays out, tail the interpreter's bookkeeping, which compiled code does not
need), the lifetime lower bound LB (no plan can be smaller), and sapool's arena with each planner and its time.
Targets checked: sapool's default plan ("best") within LB + 1% and strictly below TFLite-Micro's arena (total).
Prints a table, writes bench/results/planner.json, exits 1 if a target is missed.

    python bench/planner_vs_tflm.py
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import tempfile
from pathlib import Path

from common import available_models, environment, fastest, write_results
from rich.console import Console
from rich.table import Table

from sapool.ir.read import read_tflite
from sapool.memory import PLANNERS, compute_lifetimes, lower_bound, make_plan
from sapool.planning import plan_file

ALIGNMENT = 16
PLANNER_NAMES = ("best", *PLANNERS)
LB_TOLERANCE = 0.01
TFLM_ARENA_BYTES = 4 * 1024 * 1024  # generous: TFLM reports what it used, not what it was given
ARENA_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def tflm_arena(path: Path) -> dict[str, int] | None:
    """TFLite-Micro's arena use {total, head, tail} in bytes, or None when tflite-micro is not installed.

    print_allocations() prints from C++ straight to file descriptor 2, so fd 2 is pointed at a temporary file
    while it runs (Python's sys.stderr would not see the text).
    """
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        return None
    interpreter = runtime.Interpreter.from_file(str(path), arena_size=TFLM_ARENA_BYTES)
    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            interpreter.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode(errors="replace")
    found = {kind: int(value) for kind, value in ARENA_LINE.findall(text)}
    if set(found) != {"total", "head", "tail"}:
        raise RuntimeError(f"unexpected print_allocations() output for {path.name}: {text[-300:]!r}")
    return found


def measure(name: str, path: Path) -> dict:
    graph = read_tflite(path)
    buffers = compute_lifetimes(graph)
    bound = lower_bound(buffers, len(graph.ops), ALIGNMENT)
    planners = {}
    for planner in PLANNER_NAMES:
        plan, seconds = fastest(lambda planner=planner: make_plan(buffers, planner, ALIGNMENT))
        planners[planner] = {
            "arena_bytes": plan.arena_bytes,
            "planner_used": plan.planner,
            "proven_optimal": plan.proven_optimal,
            "time_s": round(seconds, 6),
        }
    _, analyze_seconds = fastest(lambda: plan_file(path, "stm32h7"))
    tflm = tflm_arena(path)
    best = planners["best"]["arena_bytes"]
    return {
        "model": name,
        "ops": len(graph.ops),
        "buffers": len(buffers),
        "lower_bound_bytes": bound,
        "tflm": tflm,
        "planners": planners,
        "analyze_s": round(analyze_seconds, 6),  # read + lifetimes + placement on stm32h7, as `sapool plan` does
        "ratios": {
            "best_over_lb": round(best / bound, 4) if bound else None,
            "best_over_tflm_head": round(best / tflm["head"], 4) if tflm else None,
            "best_over_tflm_total": round(best / tflm["total"], 4) if tflm else None,
        },
        # sapool's greedy planner is TFLite-Micro's algorithm: equal arenas are a check of the lifetime model.
        "greedy_equals_tflm_head": planners["greedy"]["arena_bytes"] == tflm["head"] if tflm else None,
        "targets": {
            "within_lb_plus_1pct": best <= bound * (1 + LB_TOLERANCE),
            "below_tflm_arena": best < tflm["total"] if tflm else None,
        },
    }


def print_tables(rows: list[dict]) -> None:
    console = Console(width=120)
    summary = Table(title="activation arena: sapool default plan vs TFLite-Micro (bytes)")
    for column in ("model", "TFLM total", "TFLM head", "LB", "sapool", "sapool/head", "sapool/LB", "analyze s",
                   "targets"):
        summary.add_column(column, justify="left" if column in ("model", "targets") else "right")
    for row in rows:
        tflm, ratios, targets = row["tflm"] or {}, row["ratios"], row["targets"]
        met = all(value is not False for value in targets.values())
        summary.add_row(
            row["model"],
            _bytes(tflm.get("total")), _bytes(tflm.get("head")), _bytes(row["lower_bound_bytes"]),
            _bytes(row["planners"]["best"]["arena_bytes"]),
            _ratio(ratios["best_over_tflm_head"]), _ratio(ratios["best_over_lb"]),
            f"{row['analyze_s']:.3f}",
            "met" if met else "MISSED",
        )
    console.print(summary)
    detail = Table(title="per planner: arena bytes (time ms, * = proven optimal)")
    detail.add_column("model")
    for planner in PLANNER_NAMES:
        detail.add_column(planner, justify="right")
    for row in rows:
        cells = []
        for planner in PLANNER_NAMES:
            result = row["planners"][planner]
            mark = "*" if result["proven_optimal"] else ""
            cells.append(f"{result['arena_bytes']:,}{mark} ({result['time_s'] * 1000:.2f} ms)")
        detail.add_row(row["model"], *cells)
    console.print(detail)
    agree = [row["model"] for row in rows if row["greedy_equals_tflm_head"]]
    console.print(f"sapool greedy == TFLM head on {len(agree)} of {len(rows)} models: {', '.join(agree) or '-'}")


def _bytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> int:
    rows = [measure(name, path) for name, path in available_models()]
    if not rows:
        print("no models found: nothing measured", file=sys.stderr)
        return 0
    if any(row["tflm"] is None for row in rows):
        print("tflite-micro is not installed (pip install --pre tflite-micro): TFLM columns are n/a", file=sys.stderr)
    print_tables(rows)
    missed = [row["model"] for row in rows if any(value is False for value in row["targets"].values())]
    document = {
        "schema_version": 1,
        "benchmark": "planner_vs_tflm",
        "alignment": ALIGNMENT,
        "environment": {**environment(), "tflite_micro": _version("tflite-micro")},
        "targets": {"lb_tolerance": LB_TOLERANCE, "below": "tflm total arena", "missed": missed},
        "models": rows,
    }
    print(f"wrote {write_results('planner', document)}")
    if missed:
        print(f"targets missed on: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
