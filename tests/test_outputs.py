"""Atomic outputs: the old file survives a failed write, and no temporary is ever left behind."""

import json

import pytest

from sapool.errors import BadInputError
from sapool.outputs import (atomic_directory, atomic_output, check_output_path, write_json_atomically,
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


def test_atomic_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "project"
    with atomic_directory(target) as folder:
        (folder / "model.c").write_text("int x;")
        assert not target.exists()
    assert (target / "model.c").read_text() == "int x;"
    with pytest.raises(BadInputError, match="already exists; pass --force"):
        with atomic_directory(target):
            pass
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target, force=True) as folder:
            (folder / "half.c").write_text("")
            raise KeyboardInterrupt
    assert [p.name for p in target.iterdir()] == ["model.c"]  # the old folder survives an interrupted --force
    with atomic_directory(target, force=True) as folder:
        (folder / "new.c").write_text("")
    assert [p.name for p in target.iterdir()] == ["new.c"]
    assert [p.name for p in tmp_path.iterdir()] == ["project"]  # no temporaries, no leftover old copy


def test_atomic_directory_refuses_a_file_and_a_missing_parent(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(BadInputError, match="not a folder"):
        with atomic_directory(tmp_path / "file", force=True):
            pass
    with pytest.raises(BadInputError, match="parent folder"):
        with atomic_directory(tmp_path / "missing" / "out"):
            pass
