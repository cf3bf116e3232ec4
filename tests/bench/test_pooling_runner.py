"""The pooling study runner's bookkeeping (bench/pooling.py): rows claimed by one runner at a time, rows appended."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pooling import append_row, claim_row, read_rows  # noqa: E402


def test_two_runners_claim_different_rows_and_a_finished_row_is_not_claimed(tmp_path):
    results, work = tmp_path / "results", tmp_path / "work"
    results.mkdir()
    first, first_lock, _ = claim_row(results, work)
    second, second_lock, _ = claim_row(results, work)
    assert (first.id, second.id) == ("aggressive-sap-w1-s0", "aggressive-sap-nowin-w1-s0")
    append_row(results, {"id": first.id, "status": "ok"})
    first_lock.close()
    third, third_lock, _ = claim_row(results, work)
    assert third.id == "standard-max-w1-s0"
    second_lock.close()
    third_lock.close()
    assert [record["id"] for record in read_rows(results)] == ["aggressive-sap-w1-s0"]


def test_each_lever_changes_only_its_own_training_option(tmp_path):
    from pooling_plan import Recipe, Row
    from pooling_row import lever_options

    recipe = Recipe()
    plain = Row("sap-nowin", "aggressive", 1.0, 0)
    assert lever_options(plain, recipe, tmp_path) == ([], 10)
    assert lever_options(Row(**{**plain.__dict__, "lever": "label-smoothing"}), recipe, tmp_path) == (
        ["--label-smoothing", "0.1"], 10)
    assert lever_options(Row(**{**plain.__dict__, "lever": "no-augment"}), recipe, tmp_path) == (
        ["--augment", "none"], 10)
    assert lever_options(Row(**{**plain.__dict__, "lever": "epochs-30"}), recipe, tmp_path) == ([], 30)
    distil = Row(**{**plain.__dict__, "lever": "kd-from-standard-avg-w1-s0"})
    assert lever_options(distil, recipe, tmp_path) == (
        ["--teacher", str(tmp_path / "standard-avg-w1-s0.pt"), "--kd-alpha", "0.5", "--kd-temperature", "4.0"], 10)


def test_status_tells_running_rows_from_pending_ones(tmp_path, capsys):
    from pooling import print_status

    results, work = tmp_path / "results", tmp_path / "work"
    results.mkdir()
    _, lock, _ = claim_row(results, work)
    assert print_status(results, work) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "running aggressive-sap-w1-s0"
    assert lines[1] == "pending aggressive-sap-nowin-w1-s0"
    lock.close()
