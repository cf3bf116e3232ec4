"""The attack suite (issue 18): hostile files, names, paths and numbers through sapool, in-process.

Every case must end in success or in exactly one `Error:` line with exit 2 (1 only for does-not-fit, 3 for a
missing tool): no traceback, no hang (an alarm stops a case that blocks), memory bounded (the process's peak
grows by less than MAX_GROWTH_KIB over the whole run, with zip bombs among the cases), nothing executed (payloads
would create CANARY) and nothing the command did not write overwritten or deleted.
The front-end families are generated in tests/cli/attacks.py; bench/fuzz.py runs thousands of them.
"""

import os
import resource
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from sapool.cli import main
from tests.cli.attacks import CANARY, cases, judge, seed_files
from tests.verify.int8_models import tiny_int8_bytes

FRONT_END_CASES = 64  # 16 per family: each torch.export archive that survives its mutations is loaded for real
MAX_GROWTH_KIB = 1024 * 1024
HANG_S = 120  # a hang detector, not a speed target


@contextmanager
def no_hang(what: str):
    def stop(signum, frame):
        raise TimeoutError(f"{what} still running after {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(HANG_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(*args):
    with no_hang(" ".join(map(str, args))):
        return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(result, exits=(2,)):
    """The CLI contract for a refused input."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in exits, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return seed_files(tmp_path_factory.mktemp("seeds"))


def test_hostile_archives_json_and_onnx_files_end_in_one_error_line(tmp_path, seeds, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems, outcomes = [], {}
    (tmp_path / "cases").mkdir()
    for front_end, family, name, content in cases(FRONT_END_CASES, seed=0, seeds=seeds, folder=tmp_path / "cases"):
        path = tmp_path / "cases" / name
        path.write_bytes(content)
        with no_hang(name):
            code, problem = judge(path)
        outcomes[(front_end, code)] = outcomes.get((front_end, code), 0) + 1
        if problem:
            problems.append((front_end, family, name, problem))
        path.unlink()
    assert problems == []
    assert not (tmp_path / CANARY).exists()
    assert all(outcomes.get((front_end, 2), 0) > 5 for front_end in ("pt2", "pt", "onnx")), outcomes
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < MAX_GROWTH_KIB


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "in" / "model.tflite"
    path.parent.mkdir()
    path.write_bytes(tiny_int8_bytes())
    return path


def _foreign(tmp_path) -> Path:
    folder = tmp_path / "precious"
    (folder / ".git").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    return folder


@pytest.mark.parametrize("output, extra", [
    (".", ["--force"]), ("..", ["--force"]), ("/", ["--force"]), ("~", ["--force"]), ("precious", ["--force"]),
    ("precious", []), ("in", ["--force"]), ("missing/out", []), ("in/model.tflite", ["--force"]),
    ("images/out", ["--calib", "images"]), ("images", ["--force", "--eval", "images/cat"]),
])
def test_hostile_output_folders_are_refused_before_any_work(tmp_path, monkeypatch, model, output, extra):
    _foreign(tmp_path)
    (tmp_path / "images" / "cat").mkdir(parents=True)
    (tmp_path / "images" / "cat" / "1.png").write_bytes(b"png")
    monkeypatch.chdir(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run("compile", model, "-t", "qemu-m7", "-o", os.path.expanduser(output), *extra, "--no-build", "-q")
    one_error_line(result)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing changed or left


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "dev_null", "folder", "dangling_link"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path, model, kind):
    path = tmp_path / "model.tflite"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling_link":
        path.symlink_to(tmp_path / "nowhere.tflite")
    else:
        path = Path("/dev/zero" if kind == "dev_zero" else "/dev/null")
    one_error_line(run("plan", path, "-t", "stm32h7", "-q"))
    one_error_line(run("compile", path, "-t", "stm32h7", "-o", tmp_path / "out", "-q"))
    fifo = tmp_path / "inputs.fifo"
    os.mkfifo(fifo)
    one_error_line(run("emulate", model, "-t", "qemu-m7", "--input", fifo, "-q"), exits=(2, 3))


@pytest.mark.parametrize("args", [
    ["--calib-std", "1e-300"], ["--calib-std=-1"], ["--calib-std", "nan"], ["--calib-mean", "inf"],
    ["--calib-samples", str(10 ** 12)], ["--eval-samples", "0"], ["--ram-budget", "-5"], ["--ram-budget", "1e400"],
    ["--ram-budget", "abc"], ["--calib-mean", "0.1,,0.2"],
])
def test_absurd_numbers_are_refused_up_front(tmp_path, model, args):
    result = run("compile", model, "-t", "qemu-m7", "-o", tmp_path / "out", "--no-build", "-q", *args)
    one_error_line(result)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("count", ["0", "-1", str(10 ** 12)])
def test_absurd_input_counts_are_refused_up_front(model, count):
    one_error_line(run("emulate", model, "-t", "qemu-m7", "--inputs", count, "-q"))


@pytest.mark.parametrize("name", [
    "m\n$(shell touch CANARY)\n.tflite", "`touch CANARY`.tflite", "$(touch CANARY);'\".tflite",
    os.fsdecode(b"non-utf8-\xff\xfe.tflite"), "x" * 240 + ".tflite", "-o.tflite", "\x1b[31mred.tflite",
])
def test_hostile_model_file_names_plan_cleanly_and_run_nothing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(tiny_int8_bytes())
    result = run("plan", path, "-t", "stm32h7", "--json", "-o", tmp_path / "out.json", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.json").is_file() and not (tmp_path / CANARY).exists()
