"""Outputs: atomic, never destroying what they should not (links, devices, FIFOs, inputs), strict JSON."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sapool.errors import BadInputError
from sapool.outputs import (atomic_output, check_output_path, strict_json, write_json_atomically,
                            write_text_atomically)


def test_writes_and_replaces_whole_files(tmp_path):
    path = tmp_path / "report.json"
    write_text_atomically(path, "old")
    write_json_atomically(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_an_exception_mid_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        with atomic_output(path, "wb") as stream:
            stream.write(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_missing_folder_is_one_bad_input_error(tmp_path):
    with pytest.raises(BadInputError, match="cannot write .*nowhere"):
        write_text_atomically(tmp_path / "nowhere" / "x.txt", "x")


def test_outputs_are_ordinary_readable_files(tmp_path):
    path = tmp_path / "r.txt"
    write_text_atomically(path, "x")
    assert path.stat().st_mode & 0o044 == 0o044  # not mkstemp's private 0600


@pytest.mark.parametrize("make_path, message", [
    (lambda tmp: tmp, "it is a directory"),
    (lambda tmp: tmp / "missing" / "out.pt", "output folder does not exist"),
])
def test_check_output_path_refuses_before_any_work(tmp_path, make_path, message):
    with pytest.raises(BadInputError, match=f"cannot write checkpoint to .*{message}"):
        check_output_path(make_path(tmp_path), "checkpoint")
    check_output_path(tmp_path / "fine.pt")  # a new file in an existing folder is fine


def test_a_symlink_is_followed_the_link_stays_and_its_target_is_replaced(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    check_output_path(fifo, "report")
    write_text_atomically(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_character_devices_and_dev_stdout_count_as_streams():
    from sapool.outputs import _kind

    assert _kind(Path("/dev/null")) == "stream"  # written through: `-o /dev/null` as root once replaced the device
    check_output_path(Path("/dev/null"), "report")


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        with pytest.raises(BadInputError, match="neither a regular file"):
            check_output_path(path, "report")
    finally:
        server.close()


def test_an_output_that_is_an_input_is_refused_also_through_a_link(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"model")
    (tmp_path / "alias.tflite").symlink_to(model)
    for output in (model, tmp_path / "alias.tflite"):
        with pytest.raises(BadInputError, match="is also an input"):
            check_output_path(output, "report", inputs=(model,))
    with pytest.raises(BadInputError, match="standard output"):
        check_output_path(Path("-"), "checkpoint")
    check_output_path(Path("-"), "report", allow_stdout=True)


def test_stale_temporaries_of_dead_processes_go_at_the_next_write(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".r.json.{int(dead.stdout)}.k2j3.tmp"
    live = tmp_path / f".r.json.{os.getpid()}.a1b2.tmp"
    other = tmp_path / f".other.json.{int(dead.stdout)}.x.tmp"
    for path in (stale, live, other):
        path.write_text("")
    write_json_atomically(tmp_path / "r.json", {"a": 1})
    assert not stale.exists() and live.exists() and other.exists()


SIGTERM_WRITER = """
import sys, time
from pathlib import Path
from sapool.cli.failures import install_sigterm_handler
from sapool.outputs import atomic_output
install_sigterm_handler()
with atomic_output(Path(sys.argv[1]), "wb") as stream:
    stream.write(b"half a checkpoint")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_sigterm_during_a_save_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"previous")
    process = subprocess.Popen([sys.executable, "-c", SIGTERM_WRITER, str(target)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline() == "writing\n"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_strict_json_has_no_nan_or_infinity():
    text = strict_json({"loss": float("nan"), "lr": [float("inf"), -float("inf"), 0.5], "n": 3})

    def refuse(constant):
        raise ValueError(constant)

    assert json.loads(text, parse_constant=refuse) == {"loss": None, "lr": [None, None, 0.5], "n": 3}


def test_a_report_inside_an_input_folder_is_refused(tmp_path):
    project = tmp_path / "project"
    (project / "model").mkdir(parents=True)
    (project / "model" / "model.tflite").write_bytes(b"x")
    for output in (project / "model" / "model.tflite", project / "sapool_project.json", project / "new.json"):
        with pytest.raises(BadInputError, match="input"):
            check_output_path(output, "report", inputs=(project,))
