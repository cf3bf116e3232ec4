"""Output folders: built aside and renamed into place; checked up front; --force never replaces what sapool did
not write."""

import os

import pytest

from sapool.errors import BadInputError
from sapool.output_folders import OWNER_MARKER, atomic_directory, check_output_folder

MARKER = [OWNER_MARKER]


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


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
    assert _names(target) == sorted(MARKER + ["model.c"])  # the old folder survives an interrupted --force
    with atomic_directory(target, force=True) as folder:
        (folder / "new.c").write_text("")
    assert _names(target) == sorted(MARKER + ["new.c"])
    assert _names(tmp_path) == ["project"]  # no temporaries, no leftover old copy


def test_atomic_directory_refuses_a_file_and_a_missing_parent(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(BadInputError, match="not a folder"):
        with atomic_directory(tmp_path / "file", force=True):
            pass
    with pytest.raises(BadInputError, match="parent folder"):
        with atomic_directory(tmp_path / "missing" / "out"):
            pass


@pytest.mark.parametrize("contents", [{"precious.txt": "mine"}, {".git/HEAD": "ref"}, {"sub/notes.md": "x"}])
def test_force_never_replaces_a_folder_sapool_did_not_write(tmp_path, contents):
    target = tmp_path / "out"
    for name, text in contents.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    with pytest.raises(BadInputError, match=f"{target}.*not written by sapool"):
        with atomic_directory(target, force=True) as folder:
            (folder / "model.c").write_text("")
    for name, text in contents.items():
        assert (target / name).read_text() == text
    assert _names(tmp_path) == ["out"]


def test_force_replaces_an_empty_folder_and_an_older_sapool_project(tmp_path):
    empty, project = tmp_path / "empty", tmp_path / "project"
    empty.mkdir()
    project.mkdir()
    (project / "sapool_project.json").write_text("{}")
    for target in (empty, project):
        with atomic_directory(target, force=True) as folder:
            (folder / "model.c").write_text("")
        assert (target / "model.c").exists()


@pytest.mark.parametrize("name", [".", "..", "./", "../.."])
def test_dot_and_dotdot_are_refused_up_front(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInputError, match="give the name of a folder"):
        check_output_folder(name, force=True)


def test_the_working_folder_home_and_root_are_refused_by_any_spelling(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for spelling in (str(work), "../work", str(tmp_path), "/", os.path.expanduser("~")):
        with pytest.raises(BadInputError):
            check_output_folder(spelling, force=True)


def test_a_missing_parent_is_refused_before_any_work(tmp_path):
    with pytest.raises(BadInputError, match="parent folder .* does not exist"):
        check_output_folder(tmp_path / "missing" / "out")


def test_an_output_folder_may_neither_hold_nor_lie_inside_an_input(tmp_path):
    data = tmp_path / "images"
    (data / "cat").mkdir(parents=True)
    model = tmp_path / "m" / "model.tflite"
    model.parent.mkdir()
    model.write_bytes(b"x")
    with pytest.raises(BadInputError, match="holds the input"):
        check_output_folder(tmp_path / "m", inputs=(model,), force=True)
    with pytest.raises(BadInputError, match="inside the input folder"):
        check_output_folder(data / "out", inputs=(data,))
    check_output_folder(tmp_path / "out", inputs=(model, data))
