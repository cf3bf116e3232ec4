"""Output folders (`compile -o DIR`, projects): checked before any work, built aside, never replacing what sapool
did not write.

- `check_output_folder` runs first: `.`, `..`, `/`, the working folder or one of its parents, the home folder, a
  missing parent, an output that is, holds or lies inside one of the command's inputs, and an existing folder
  without `--force` are one BadInputError each, before a minute is spent.
- `--force` replaces only an empty folder or one sapool wrote: every folder built by `atomic_directory` carries the
  marker file OWNER_MARKER (older sapool projects are recognised by their sapool_project.json). A folder with
  anything else in it (precious files, a source checkout, $HOME) is refused, naming it.
- `atomic_directory` builds the folder in a temporary sibling and renames it into place only when the block
  finishes cleanly, so a failure leaves the old folder or nothing, never a mix.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sapool.errors import BadInputError
from sapool.outputs import _umask, is_stdout, remove_stale_temporaries

OWNER_MARKER = ".sapool-output"
LEGACY_MARKERS = ("sapool_project.json",)  # projects written before the marker existed
_MARKER_TEXT = "This folder was written by sapool; `--force` may replace it.\n"


def written_by_sapool(folder: Path) -> bool:
    """True for an empty folder or one holding sapool's marker: the only folders `--force` replaces."""
    folder = Path(folder)
    try:
        if not any(folder.iterdir()):
            return True
    except OSError:
        return False
    return any((folder / name).is_file() and not (folder / name).is_symlink()
               for name in (OWNER_MARKER, *LEGACY_MARKERS))


def check_output_folder(path: Path, what: str = "output folder", *, inputs: Iterable = (),
                        force: bool = False) -> None:
    """Fail before any work when `path` cannot or must not become the output folder (see the module docstring)."""
    path = Path(path)
    if path.name in ("", ".", "..") or is_stdout(path):
        raise BadInputError(f"-o {path}: give the name of a folder for the {what}, not {str(path)!r} (sapool "
                            "replaces the whole folder)")
    resolved = _resolved(path)
    here = _resolved(Path.cwd())
    if resolved in (Path("/"), _resolved(Path.home()), here, *here.parents):
        raise BadInputError(f"-o {path}: that is {'the working folder or one that holds it' if resolved != Path('/') else 'the root folder'}"
                            f"; give a new folder's name for the {what}")
    parent = resolved.parent
    if not parent.is_dir():
        raise BadInputError(f"cannot write {what} {path}: its parent folder {path.parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInputError(f"cannot write {what} {path}: its parent folder {path.parent} is not writable")
    for source in inputs:
        if source is None or is_stdout(source):
            continue
        source_resolved = _resolved(Path(source))
        if source_resolved == resolved or resolved in source_resolved.parents:
            raise BadInputError(f"-o {path} holds the input {source}; refusing to replace it")
        if source_resolved in resolved.parents:
            raise BadInputError(f"-o {path} lies inside the input folder {source}; write the {what} elsewhere")
    if path.exists() or path.is_symlink():
        _check_replaceable(path, what, force)


def _check_replaceable(path: Path, what: str, force: bool) -> None:
    if path.is_symlink() or not path.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: it exists and is not a folder")
    if not force:
        raise BadInputError(f"{what} {path} already exists; pass --force to replace it")
    if not written_by_sapool(path):
        raise BadInputError(f"{what} {path} exists and was not written by sapool (no {OWNER_MARKER} in it); "
                            "refusing to replace it even with --force: remove it yourself or choose another -o")


def _resolved(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path.expanduser()))
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


@contextmanager
def atomic_directory(path: Path, *, force: bool = False, what: str = "output folder") -> Iterator[Path]:
    """Build a folder in a temporary sibling and move it onto `path` only when the block finishes cleanly.

    An existing `path` is refused unless `force` and sapool wrote it (`check_output_folder`); it is replaced only
    at the very end, so a failed or interrupted run (any exception, Ctrl-C included) leaves the old folder, or
    nothing, and never a half-written one. Yields the temporary folder to write into, marker already inside.
    """
    path = Path(path)
    check_output_folder(path, what, force=force)
    path = Path(os.path.abspath(path))  # renames below name the real folder, never "." or ".."
    parent = path.parent
    remove_stale_temporaries(path)
    try:
        temporary = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"))
    except OSError as err:
        raise BadInputError(f"cannot write {what} {path}: {err.strerror}") from None
    try:
        (temporary / OWNER_MARKER).write_text(_MARKER_TEXT)
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())
        if path.exists():
            _check_replaceable(path, what, force)  # it may have changed while the command ran
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.", suffix=".old"))  # kept if killed here
            os.replace(path, old / path.name)
            os.replace(temporary, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
    except OSError as err:
        shutil.rmtree(temporary, ignore_errors=True)
        raise BadInputError(f"cannot write {what} {path}: {err.strerror}") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
