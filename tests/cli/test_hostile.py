"""A few hundred hostile inputs through `sapool plan`: success, or one Error: line and nothing written.

bench/fuzz.py runs the same generator with 10,000 cases; tests/cli/hostile.py says what is generated and allowed.
"""

import resource

import pytest

from tests.cli.hostile import hostile_cases, run_case
from tests.conftest import MODEL_NAMES, SHARED_MODELS

CASES = 300
MAX_GROWTH_KIB = 300 * 1024


def test_hostile_models_end_in_success_or_one_error_line(tmp_path):
    shared = [SHARED_MODELS / f"{name}.tflite" for name in MODEL_NAMES if (SHARED_MODELS / f"{name}.tflite").is_file()]
    if not shared:
        pytest.skip(f"shared models not present in {SHARED_MODELS}: only generated cases would run")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    failures, exits = [], {}
    for kind, name, content in hostile_cases(CASES, seed=0, shared=shared):
        outcome = run_case(tmp_path, name, content)
        exits[outcome["exit"]] = exits.get(outcome["exit"], 0) + 1
        if outcome["problem"]:
            failures.append((kind, name, outcome["problem"]))
    assert failures == []
    assert exits.get(2, 0) > 50 and exits.get(0, 0) > 50  # both outcomes are exercised
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < MAX_GROWTH_KIB
