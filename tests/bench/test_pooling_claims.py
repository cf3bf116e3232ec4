"""The pooling study's verdict code (bench/pooling_claims.py) on hand-built tables whose right verdict is known."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pooling_claims import compare, configurations, verdict, verdict_lines  # noqa: E402

STANDARD_RAM, AGGRESSIVE_RAM = 40_000, 9_000


def rows(pool: str, downsample: str, accuracies: list[float], ram: int, width: float = 1.0) -> list[dict]:
    """Finished study rows, one per seed, int8 accuracies given in percent."""
    return [{"pool": pool, "downsample": downsample, "width": width, "seed": seed, "status": "ok",
             "int8_top1": accuracy / 100, "float_top1": accuracy / 100 + 0.001, "firmware_ram_bytes": ram,
             "firmware_ram_bytes_no_patches": 2 * ram, "params": 1000, "macs": 5000, "instructions": 9,
             "instructions_no_patches": 8} for seed, accuracy in enumerate(accuracies)]


def base_table() -> list[dict]:
    """SAP-aggressive 0.5 points under the best standard model at 4.44x less RAM, clearly ahead of max."""
    return (rows("max", "standard", [90.0, 90.1, 90.2], STANDARD_RAM)
            + rows("avg", "standard", [89.0, 89.1, 89.2], STANDARD_RAM)
            + rows("sap-nowin", "aggressive", [89.5, 89.6, 89.7], AGGRESSIVE_RAM + 100)
            + rows("max", "aggressive", [88.0, 88.1, 88.2], AGGRESSIVE_RAM))


def judgement(records: list[dict], subject: str = "aggressive sap-nowin w1") -> dict:
    return next(item for item in verdict(records)["judgements"] if item["subject"] == subject)


def test_goal_met_when_every_part_passes():
    result = judgement(base_table())
    assert result["goal_met"] is True
    standard = result["best_standard_with_patches"]
    assert standard["other"] == "standard max w1"
    assert standard["gap_points"] == pytest.approx(0.5)
    assert standard["ram_reduction"] == pytest.approx(STANDARD_RAM / (AGGRESSIVE_RAM + 100), abs=1e-3)
    assert standard["outcome"] == "pass"
    assert result["best_at_no_more_ram"]["other"] == "aggressive max w1"
    assert result["best_at_no_more_ram"]["outcome"] == "ahead"
    assert [c["outcome"] for c in result["other_pools_same_setting"]] == ["ahead"]


def test_higher_mean_inside_the_spread_is_a_tie_and_fails_the_goal():
    # avg's mean (89.55) is below SAP's (89.6) but its seeds overlap SAP's range: not "beyond the spread"
    result = judgement(base_table() + rows("avg", "aggressive", [89.3, 89.8, 89.55], AGGRESSIVE_RAM))
    tie = next(c for c in result["other_pools_same_setting"] if c["other"] == "aggressive avg w1")
    assert tie["margin_points"] == pytest.approx(0.05)
    assert tie["outcome"] == "tie"
    assert result["goal_met"] is False


def test_a_pool_with_one_seed_leaves_the_goal_undecided():
    result = judgement(base_table() + rows("lip", "aggressive", [80.0], AGGRESSIVE_RAM))
    lip = next(c for c in result["other_pools_same_setting"] if c["other"] == "aggressive lip w1")
    assert lip["outcome"] == "missing seeds"
    assert lip["other_seeds"] == 1
    assert result["goal_met"] is None
    assert any("UNDECIDED" in line for line in verdict_lines(verdict(base_table() + rows("lip", "aggressive", [80.0],
                                                                                           AGGRESSIVE_RAM))))


def test_too_far_behind_or_too_little_ram_saved_fails():
    far = base_table() + rows("lip", "standard", [92.0, 92.1, 92.2], STANDARD_RAM)
    result = judgement(far)
    assert result["best_standard_with_patches"]["other"] == "standard lip w1"
    assert result["best_standard_with_patches"]["outcome"] == "fail"
    assert result["goal_met"] is False
    # patches shrink the standard network to 3x the aggressive one: the 4x part fails even with one seed each
    small = (rows("max", "standard", [90.0], 3 * AGGRESSIVE_RAM)
             + rows("sap-nowin", "aggressive", [89.9], AGGRESSIVE_RAM))
    result = judgement(small)
    assert result["best_standard_with_patches"]["ram_reduction_met"] is False
    assert result["goal_met"] is False


def test_best_at_no_more_ram_excludes_bigger_models_and_the_subject():
    table = base_table() + rows("avg", "aggressive", [89.9, 90.0, 90.1], AGGRESSIVE_RAM + 50, width=0.5)
    result = judgement(table)
    assert result["best_at_no_more_ram"]["other"] == "aggressive avg w0.5"
    assert result["best_at_no_more_ram"]["outcome"] == "behind"
    # the width-0.5 avg is another setting, so it is not among "the other pools at the same RAM"
    assert [c["other"] for c in result["other_pools_same_setting"]] == ["aggressive max w1"]


def test_failed_rows_are_left_out_and_seeds_are_aggregated():
    failed = {**rows("strided", "aggressive", [0.0], AGGRESSIVE_RAM)[0], "status": "failed"}
    table = {entry["name"]: entry for entry in configurations(base_table() + [failed])}
    assert "aggressive strided w1" not in table
    assert table["standard max w1"]["mean"] == pytest.approx(90.1)
    assert table["standard max w1"]["seeds"] == [0, 1, 2]


def test_compare_needs_every_seed_of_one_side_above_the_other():
    ahead = {"name": "a", "accuracies": [90.0, 90.1, 90.2], "mean": 90.1, "ram": 1}
    behind = {"name": "b", "accuracies": [89.0, 89.1, 89.99], "mean": 89.36, "ram": 1}
    assert compare(ahead, behind)["outcome"] == "ahead"
    assert compare(behind, ahead)["outcome"] == "behind"


def test_lever_rows_are_not_configurations_of_the_verdict():
    lever = [{**row, "lever": "label-smoothing"} for row in rows("sap-nowin", "aggressive", [99.0], AGGRESSIVE_RAM)]
    assert judgement(base_table() + lever)["mean"] == pytest.approx(89.6)
