"""Hostile inputs for every front end: 10,000 .tflite files through `sapool plan` (tests/cli/hostile.py) and
--frontend-cases hostile .pt2 archives, sapool checkpoints and ONNX files through sapool's loader
(tests/cli/attacks.py: zip, json and onnx families). Every one must succeed or end in one `Error:` line (exit 2/3,
or 1 for a model that does not fit), writing nothing where it should not, running nothing (no CANARY file).
The .tflite cases have a 5 s limit each; a torch.export archive that survives its mutation is loaded for real
(seconds each), so the front-end run is smaller.

Prints the counts per front end, family and outcome, writes bench/results/fuzz.json, exits 1 on any failure.

    python bench/fuzz.py [--cases N] [--frontend-cases M] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from collections import Counter
from pathlib import Path

from common import REPO, available_models, environment, write_results

sys.path.insert(0, str(REPO))  # the generator lives with the tests
from tests.cli.attacks import CANARY, cases as frontend_cases, judge, seed_files  # noqa: E402
from tests.cli.hostile import LIMIT_S, hostile_cases, run_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--frontend-cases", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    shared = [path for _, path in available_models()]
    outcomes: Counter = Counter()
    failures, slowest = [], 0.0
    with tempfile.TemporaryDirectory() as folder:
        for kind, name, content in hostile_cases(args.cases, args.seed, shared):
            outcome = run_case(Path(folder), name, content)
            outcomes[f"{kind} exit {outcome['exit']}"] += 1
            slowest = max(slowest, outcome["seconds"])
            if outcome["problem"]:
                failures.append({"kind": kind, "case": name, "problem": outcome["problem"]})
    frontends = _frontend_run(args.frontend_cases, args.seed, failures)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key, number in sorted(outcomes.items()):
        print(f"tflite {key:<24} {number:>6}")
    for key, number in sorted(frontends.items()):
        print(f"{key:<31} {number:>6}")
    print(f"{args.cases} .tflite + {args.frontend_cases} .pt2/.pt/.onnx cases, {len(failures)} failures, slowest {slowest:.2f} s (limit {LIMIT_S} s), "
          f"process peak {peak_mb:.0f} MB")
    document = {"schema_version": 2, "benchmark": "fuzz", "cases": args.cases, "seed": args.seed,
                "frontend_cases": args.frontend_cases, "frontend_outcomes": dict(sorted(frontends.items())),
                "outcomes": dict(sorted(outcomes.items())), "failures": failures[:100],
                "failure_count": len(failures), "slowest_s": round(slowest, 3), "peak_mb": round(peak_mb, 1),
                "environment": environment()}
    print(f"wrote {write_results('fuzz', document)}")
    return 1 if failures else 0


def _frontend_run(count: int, seed: int, failures: list) -> Counter:
    """`count` hostile .pt2 / .pt / .onnx files through sapool's loader, in a scratch working folder (payloads that
    would run code create CANARY there); counts by "<front end> <family> exit <code>"."""
    outcomes: Counter = Counter()
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.chdir(folder)
        try:
            (folder / "seeds").mkdir()
            (folder / "cases").mkdir()
            seeds = seed_files(folder / "seeds")
            for front_end, family, name, content in frontend_cases(count, seed, seeds, folder / "cases"):
                path = folder / "cases" / name
                path.write_bytes(content)
                code, problem = judge(path)
                outcomes[f"{front_end} {family} exit {code}"] += 1
                if problem:
                    failures.append({"kind": f"{front_end} {family}", "case": name, "problem": problem})
                path.unlink()
            if (folder / CANARY).exists():
                failures.append({"kind": "frontends", "case": "all", "problem": "a payload ran: CANARY exists"})
        finally:
            os.chdir(here)
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
