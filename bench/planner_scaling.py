"""How `sapool plan` scales: synthetic int8 models of 100 to 1,000 elementwise ops with long skip connections.

Each size is planned by the real command (`python -m sapool plan MODEL --target stm32h7 --format json`) in its own
process, so the figures are what a user sees: wall seconds for the whole command (start-up, reading, planning,
checking every plan, rendering), its CPU seconds (what a loaded machine does not inflate) and the process's peak
resident memory. The report gives the plan's peak arena
and the lifetime lower bound LB. Targets: 1,000 ops in under 2 s and 300 MB with the default planner.
Each planner is also timed in this process on the 1,000-op buffers with a 0.2 s time limit, as a ratio to the
greedy planner's one pass (the anchor, same run): the claim that every planner honours its time limit, which a
unit test cannot time on a shared machine. Prints tables, writes bench/results/planner_scaling.json, exits 1 if
a target is missed.

    python bench/planner_scaling.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, environment, write_results
from rich.console import Console
from rich.table import Table
from synthetic import skip_chain_model

SIZES = (100, 200, 500, 700, 1000)
TARGET = "stm32h7"
LIMITS = {"ops": 1000, "cpu_seconds": 2.0, "megabytes": 300}  # CPU time: wall time on a shared machine varies


def measure(ops: int, folder: Path) -> dict:
    model = folder / f"skip{ops}.tflite"
    model.write_bytes(skip_chain_model(ops, seed=0))
    report = folder / f"skip{ops}.json"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sapool", "plan", str(model), "--target", TARGET, "--format", "json", "-o",
         str(report)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage (peak RSS in KiB on Linux)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"sapool plan failed on {ops} ops (exit {code}): {process.stderr.read().decode()}")
    document = json.loads(report.read_text())
    peak, bound = document["peak_arena_bytes"], document["lower_bound_bytes"]
    return {
        "ops": ops,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),  # what a shared, loaded machine does not inflate
        "megabytes": round(usage.ru_maxrss / 1024, 1),
        "peak_arena_bytes": peak,
        "lower_bound_bytes": bound,
        "peak_over_lb": round(peak / bound, 4),
        "planners_used": document["planners_used"],
        "notes": document["notes"],
    }


PLANNER_TIME_LIMIT_S = 0.2
PLANNER_LIMIT_RATIO = 15.0  # the time limit plus checking the plan, over greedy's pass (measured 1.1-2.6x)


def planner_times(ops: int = 1000) -> list[dict]:
    """CPU seconds of each planner on `ops` ops' buffers (0.2 s limit), and their ratio to greedy's."""
    from sapool.ir.read import read_tflite_bytes
    from sapool.memory import check_plan, compute_lifetimes, make_plan

    buffers = compute_lifetimes(read_tflite_bytes(skip_chain_model(ops, seed=0), f"skip{ops}"))
    rows = []
    for planner in ("greedy", "multi_order", "exact", "best"):
        started = time.process_time()
        plan = make_plan(buffers, planner, time_limit_s=PLANNER_TIME_LIMIT_S)
        check_plan(buffers, plan)
        rows.append({"planner": planner, "cpu_seconds": round(time.process_time() - started, 4),
                     "arena_bytes": plan.arena_bytes})
    anchor = max(rows[0]["cpu_seconds"], 1e-3)
    for row in rows:
        row["ratio_to_greedy"] = round(row["cpu_seconds"] / anchor, 2)
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(ops, Path(folder)) for ops in SIZES]
    planners = planner_times()
    table = Table(title=f"sapool plan --target {TARGET} on synthetic skip-connection models (default planner)")
    for column in ("ops", "wall s", "CPU s", "MB", "peak B", "LB B", "peak/LB", "planners"):
        table.add_column(column, justify="left" if column == "planners" else "right")
    for row in rows:
        table.add_row(str(row["ops"]), f"{row['seconds']:.2f}", f"{row['cpu_seconds']:.2f}", f"{row['megabytes']:.0f}",
                      f"{row['peak_arena_bytes']:,}", f"{row['lower_bound_bytes']:,}", f"{row['peak_over_lb']:.3f}",
                      ", ".join(row["planners_used"]))
    Console(width=120).print(table)
    times = Table(title=f"each planner on 1,000 ops, time limit {PLANNER_TIME_LIMIT_S} s (CPU s, ratio to greedy)")
    for column in ("planner", "CPU s", "x greedy", "arena B"):
        times.add_column(column, justify="right")
    for row in planners:
        times.add_row(row["planner"], f"{row['cpu_seconds']:.3f}", f"{row['ratio_to_greedy']:.1f}",
                      f"{row['arena_bytes']:,}")
    Console(width=120).print(times)
    largest = next(row for row in rows if row["ops"] == LIMITS["ops"])
    missed = [what for what in ("cpu_seconds", "megabytes") if largest[what] >= LIMITS[what]]
    slowest = max(row["cpu_seconds"] for row in planners)
    if slowest > PLANNER_TIME_LIMIT_S + PLANNER_LIMIT_RATIO * planners[0]["cpu_seconds"]:
        missed.append("planner time limit")
    document = {"schema_version": 2, "benchmark": "planner_scaling", "target": TARGET, "limits": LIMITS,
                "missed": missed, "environment": environment(), "sizes": rows, "planners": planners}
    print(f"wrote {write_results('planner_scaling', document)}")
    if missed:
        print(f"targets missed at {LIMITS['ops']} ops: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
