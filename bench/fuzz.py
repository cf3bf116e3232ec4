"""10,000 hostile inputs through `sapool plan` (tests/cli/hostile.py): every one must succeed or end in one
`Error:` line (exit 2/3, or 1 for a model that does not fit) within 5 s, writing nothing where it should not.

Prints the counts per kind and outcome, writes bench/results/fuzz.json, exits 1 on any failure.

    python bench/fuzz.py [--cases N] [--seed S]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from collections import Counter
from pathlib import Path

from common import REPO, available_models, environment, write_results

sys.path.insert(0, str(REPO))  # the generator lives with the tests
from tests.cli.hostile import LIMIT_S, hostile_cases, run_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
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
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key, number in sorted(outcomes.items()):
        print(f"{key:<24} {number:>6}")
    print(f"{args.cases} cases, {len(failures)} failures, slowest {slowest:.2f} s (limit {LIMIT_S} s), "
          f"process peak {peak_mb:.0f} MB")
    document = {"schema_version": 1, "benchmark": "fuzz", "cases": args.cases, "seed": args.seed,
                "outcomes": dict(sorted(outcomes.items())), "failures": failures[:100],
                "failure_count": len(failures), "slowest_s": round(slowest, 3), "peak_mb": round(peak_mb, 1),
                "environment": environment()}
    print(f"wrote {write_results('fuzz', document)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
