"""Coverage of everyday torch models: each model of tests/coverage/zoo.py × each front end (.pt2, ONNX from torch's
dynamo exporter, ONNX from its TorchScript exporter) goes through export → `sapool compile` → all int8 →
`sapool emulate` in QEMU, bit-exact with TFLite's reference kernels (tests/coverage/pairs.py).

Commands run in this process through click (as the tests run them: torch is imported once, which saves
~20 s per command on a busy 2-core machine); `--subprocess` runs each as its own `python -m sapool` process
instead, exactly as a user does. Prints the pass rate per front end and
the model × front-end table, and writes bench/results/coverage.json with the failure reason (the `Error:` line) of
each failing pair. Target (issue 14): at least 95 % of the pairs pass; exit 1 below it.
`--models a,b` and `--front-ends x,y` run a subset (quick checks; the JSON then says which).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, environment, write_results

sys.path.insert(0, str(REPO))

from tests.coverage.pairs import FRONT_ENDS, PairResult, check_pair  # noqa: E402
from tests.coverage.zoo import MODELS, build  # noqa: E402

TARGET_PASS_RATE = 0.95
COMMAND_TIMEOUT_S = 900


def run_in_process(args: list[str]) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from sapool.cli import main as sapool_main

    result = CliRunner().invoke(sapool_main, args)
    return result.exit_code, result.stdout, result.stderr


def run_subprocess(args: list[str]) -> tuple[int, str, str]:
    """`python -m sapool ARGS` in a fresh process, on this checkout's sources."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        done = subprocess.run([sys.executable, "-m", "sapool", *args], capture_output=True, text=True, env=env,
                              timeout=COMMAND_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return 124, "", f"Error: timed out after {COMMAND_TIMEOUT_S} s"
    return done.returncode, done.stdout, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--front-ends", default=",".join(FRONT_ENDS), help="comma-separated front ends")
    parser.add_argument("--subprocess", action="store_true", help="one `python -m sapool` process per command")
    options = parser.parse_args()
    models, front_ends = options.models.split(","), options.front_ends.split(",")
    unknown = sorted(set(models) - set(MODELS)) + sorted(set(front_ends) - set(FRONT_ENDS))
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    run_cli = run_subprocess if options.subprocess else run_in_process
    results: list[PairResult] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sapool-coverage-") as work:
        for name in models:
            model, shape = build(name)
            for front_end in front_ends:
                result = check_pair(name, model, shape, front_end, Path(work) / name / front_end, run_cli)
                results.append(result)
                verdict = "pass" if result.passed else f"FAIL at {result.stage}: {result.reason}"
                print(f"{name:<30} {front_end:<18} {verdict}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    passed = sum(r.passed for r in results)
    rate = passed / len(results)
    _print_table(results, models, front_ends)
    met = rate >= TARGET_PASS_RATE
    print(f"\n{passed} of {len(results)} pairs pass ({rate:.1%}); target ≥ {TARGET_PASS_RATE:.0%}: "
          f"{'met' if met else 'MISSED'} ({seconds:.0f} s)")
    write_results("coverage", {
        "environment": environment(),
        "seconds": round(seconds, 1),
        "models": models,
        "front_ends": front_ends,
        "commands": "subprocess" if options.subprocess else "in-process (click)",
        "pass_rate": round(rate, 4),
        "target_pass_rate": TARGET_PASS_RATE,
        "target_met": met,
        "per_front_end": {fe: _rate([r for r in results if r.front_end == fe]) for fe in front_ends},
        "pairs": [{"model": r.model, "front_end": r.front_end, "passed": r.passed, "stage": r.stage,
                   "reason": r.reason or None} for r in results],
    })
    return 0 if met else 1


def _rate(results: list[PairResult]) -> dict:
    passed = sum(r.passed for r in results)
    return {"passed": passed, "pairs": len(results), "pass_rate": round(passed / len(results), 4)}


def _print_table(results: list[PairResult], models: list[str], front_ends: list[str]) -> None:
    cell = {(r.model, r.front_end): "pass" if r.passed else f"FAIL ({r.stage})" for r in results}
    print(f"{'model':<30}" + "".join(f"{fe:>20}" for fe in front_ends))
    for name in models:
        print(f"{name:<30}" + "".join(f"{cell[(name, fe)]:>20}" for fe in front_ends))
    print(f"{'pass rate':<30}" + "".join(
        f"{_rate([r for r in results if r.front_end == fe])['pass_rate']:>20.0%}" for fe in front_ends))
    failures = [r for r in results if not r.passed]
    if failures:
        print("\nfailures:")
        for r in failures:
            print(f"  {r.model} × {r.front_end} ({r.stage}): {r.reason}")


if __name__ == "__main__":
    sys.exit(main())
