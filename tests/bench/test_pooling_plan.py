"""The pooling study's row order (bench/pooling_plan.py): what runs first, and when the extra seeds are decided."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pooling_plan import BASELINES, Row, best_baselines, pending_rows  # noqa: E402


def finished(row: Row, accuracy: float = 0.9) -> tuple[str, dict]:
    return row.id, {"id": row.id, "float_top1": accuracy}


def test_sap_aggressive_then_standard_baselines_at_width_1_come_first():
    first = [row.id for row in pending_rows({})[:6]]
    assert first == ["aggressive-sap-w1-s0", "aggressive-sap-nowin-w1-s0", "standard-max-w1-s0",
                     "standard-avg-w1-s0", "standard-lip-w1-s0", "standard-strided-w1-s0"]


def test_extra_seeds_go_to_the_two_best_baselines_once_all_four_are_known():
    scores = {"lip": 0.80, "max": 0.86, "avg": 0.85, "strided": 0.70}
    three = dict(finished(Row(pool, "standard", 1.0, 0), scores[pool]) for pool in ("lip", "max", "avg"))
    assert best_baselines(three, "standard", 1.0) is None
    assert not any(row.seed and row.pool in BASELINES for row in pending_rows(three))
    four = {**three, **dict([finished(Row("strided", "standard", 1.0, 0), scores["strided"])])}
    assert best_baselines(four, "standard", 1.0) == ("max", "avg")
    extra = {(row.pool, row.seed) for row in pending_rows(four)
             if row.seed and row.setting == ("standard", 1.0) and row.pool in BASELINES}
    assert extra == {("max", 1), ("max", 2), ("avg", 1), ("avg", 2)}


def test_finished_rows_are_not_run_again():
    done = dict([finished(Row("sap", "aggressive", 1.0, 0))])
    assert "aggressive-sap-w1-s0" not in [row.id for row in pending_rows(done)]


def test_levers_follow_the_width_1_rows_and_distillation_waits_for_its_teacher():
    from pooling_plan import POOLS

    planned = [row.id for row in pending_rows({})]
    levers = [row.id for row in pending_rows({}) if row.lever]
    assert levers == ["aggressive-sap-nowin-w1-s0-label-smoothing", "aggressive-sap-nowin-w1-s0-no-augment",
                      "aggressive-sap-nowin-w1-s0-epochs-30"]
    assert planned.index(levers[0]) < planned.index("aggressive-sap-w0.5-s0")
    standard = dict(finished(Row(pool, "standard", 1.0, 0), 0.80 + 0.01 * index) for index, pool in enumerate(POOLS))
    assert standard["standard-strided-w1-s0"]["float_top1"] == max(r["float_top1"] for r in standard.values())
    assert "aggressive-sap-nowin-w1-s0-kd-from-standard-strided-w1-s0" in [row.id for row in pending_rows(standard)]
