"""The pooling study at measured firmware RAM (issue 17): every pool × downsampling × width, trained, compiled, run.

For mcunet at 64×64 on Fashion-MNIST, each pooling method (sap, sap-nowin, lip, max, avg, strided) with standard
(`1222`) and aggressive (`4221`) stage strides, at widths 1 and 0.5: `sapool train` on the full 60,000 training
images for 10 epochs, `sapool compile --target stm32h7` (float and int8 top-1 on the 10k test split) and `sapool
emulate` of the int8 model with the patch stage on and with `--patches off` (firmware RAM measured from the ELF and
the painted stack, instructions). Seed 0 for every configuration; seeds 1 and 2 for the SAP rows and for the two
best baselines of each setting (pooling_plan.py).

The study is resumable and meant to span sessions: each finished row is appended to
bench/results/pooling_rows.jsonl at once and skipped on the next start; a row interrupted mid-training continues
from its last per-epoch checkpoint (`sapool train --resume`). Checkpoints and firmware projects live in a work
folder outside git (bench/work/pooling by default). Per-row logs go to bench/results/pooling_logs/. Several
runners can share one study (one per core that is free): each claims its row with a lock file in the work folder.

    nice -n 19 python bench/pooling.py            # run (or continue) the study
    python bench/pooling.py --status              # rows done and still to run, in order
    python bench/pooling.py --report              # table, verdict, plot and pooling.json from the finished rows
    python bench/pooling.py --quick --results /tmp/q --work /tmp/q/work   # 2 rows on 256 images, 1 epoch
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import IO

from pooling_plan import QUICK, Recipe, Row, pending_rows
from pooling_row import StepFailed, completed_epochs, measure_row


REPO = Path(__file__).resolve().parents[1]
ROWS_FILE = "pooling_rows.jsonl"
LOGS = "pooling_logs"


def read_rows(results: Path) -> list[dict]:
    path = results / ROWS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_row(results: Path, record: dict) -> None:
    """Rewrite the JSONL with the new line atomically (a kill never leaves half a line), under a lock shared by
    the runners of one study."""
    path = results / ROWS_FILE
    with (results / f"{ROWS_FILE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text() if path.is_file() else ""
        temporary = path.with_suffix(".jsonl.tmp")
        temporary.write_text(text + json.dumps(record, sort_keys=True) + "\n")
        os.replace(temporary, path)


def finished_rows(results: Path, retry_before: str | None = None) -> dict[str, dict]:
    """Row id -> its last record. A failed row counts as finished, unless it failed before `retry_before` (a
    time stamp): a runner started with --retry-failed tries each earlier failure once more."""
    return {record["id"]: record for record in read_rows(results)
            if not (retry_before and record.get("status") != "ok" and record["finished_at"] < retry_before)}


def claim_row(results: Path, work: Path, retry_before: str | None = None) -> tuple[Row | None, IO | None, int]:
    """The first pending row no other runner is working on, with its held lock file (released when this runner
    ends, however it ends), so that several runners can share one study, one per core that is free. Returns
    (None, None, pending count) when every pending row is taken or none is left."""
    work.mkdir(parents=True, exist_ok=True)
    pending = pending_rows(finished_rows(results, retry_before))
    for row in pending:
        handle = (work / f"{row.id}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        if row.id in finished_rows(results, retry_before):  # finished by another runner meanwhile
            handle.close()
            continue
        return row, handle, len(pending)
    return None, None, len(pending)


def _stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def note(results: Path, message: str) -> None:
    line = f"{_stamp()} {message}"
    print(line, flush=True)
    with (results / LOGS / "runner.log").open("a") as stream:
        stream.write(line + "\n")


def run_study(recipe: Recipe, results: Path, work: Path, max_rows: int | None, retry_failed: bool = False) -> int:
    (results / LOGS).mkdir(parents=True, exist_ok=True)
    finished = 0
    retry_before = _stamp() if retry_failed else None
    while max_rows is None or finished < max_rows:
        row, lock, pending = claim_row(results, work, retry_before)
        if row is None:
            note(results, "study complete: every planned row is done" if not pending
                 else f"no free row: the {pending} pending rows are taken by other runners or wait for them")
            return 0
        note(results, f"start {row.id} (pid {os.getpid()}, {pending} rows known to run; load "
                      f"{os.getloadavg()[0]:.2f})")
        started = time.perf_counter()
        try:
            record = measure_row(row, recipe, work, results / LOGS / f"{row.id}.log")
        except StepFailed as failure:
            record = {**row.to_dict(), "status": "failed", "error": str(failure)}
        record.update(status=record.get("status", "ok"), recipe=recipe.to_dict(), finished_at=_stamp(),
                      row_wall_seconds=round(time.perf_counter() - started, 1))
        append_row(results, record)
        note(results, f"done {row.id}: {record['status']} in {record['row_wall_seconds']:.0f} s"
                      + (f", float {record['float_top1']:.4f}, int8 {record['int8_top1']:.4f}, firmware RAM "
                         f"{record['firmware_ram_bytes']:,} B ({record['firmware_ram_bytes_no_patches']:,} B "
                         f"without patches)" if record["status"] == "ok" else f": {record['error']}"))
        lock.close()
        finished += 1
    return 0


def _running(work: Path, row: Row) -> bool:
    """Whether a runner holds this row's lock right now."""
    path = work / f"{row.id}.lock"
    if not path.is_file():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def print_status(results: Path, work: Path) -> int:
    done = finished_rows(results)
    for record in done.values():
        print(f"done    {record['id']:<40} {record['status']}")
    for row in pending_rows(done):
        epochs = completed_epochs(work / f"{row.id}.pt")
        state = "running" if _running(work, row) else "pending"
        print(f"{state:<7} {row.id:<40} {f'{epochs} epochs in its checkpoint' if epochs else ''}".rstrip())
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results",
                        help="folder of pooling_rows.jsonl and pooling_logs/ (default bench/results)")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "pooling",
                        help="checkpoints and firmware projects (not committed)")
    parser.add_argument("--docs", type=Path, default=REPO / "docs", help="--report also puts the plot here")
    parser.add_argument("--max-rows", type=int, help="stop after finishing this many rows")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run rows recorded as failed again (e.g. after restoring a missing teacher checkpoint)")
    parser.add_argument("--quick", action="store_true", help="256 training images, 1 epoch, 200 int8 test images")
    parser.add_argument("--status", action="store_true", help="list finished and pending rows; train nothing")
    parser.add_argument("--report", action="store_true",
                        help="write pooling.json, the plot and the verdict from the finished rows; train nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.status:
        return print_status(args.results, args.work)
    if args.report:
        from pooling_report import report

        return report(read_rows(args.results), args.results, args.docs)
    recipe = QUICK if args.quick else Recipe()
    return run_study(recipe, args.results, args.work, args.max_rows, args.retry_failed)


if __name__ == "__main__":
    sys.exit(main())
