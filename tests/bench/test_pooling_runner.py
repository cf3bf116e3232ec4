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
