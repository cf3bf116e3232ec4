"""Writing outputs so that nobody ever sees half a file: temporary sibling, then rename over the target.

Every file sapool writes (reports, checkpoints, benchmark results) goes through `atomic_output`, so a crash,
a full disk or Ctrl-C leaves either the old file or the new one, and no temporary behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sapool.errors import BadInputError


def check_output_path(path: Path, what: str = "output") -> None:
    """Fail before any work when `path` cannot be written, so a bad -o never costs a whole training or analysis."""
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: it is a directory")
    if not path.parent.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: output folder does not exist ({path.parent})")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise BadInputError(f"cannot write {what} to {path}: output folder {path.parent} is not writable")


@contextmanager
def atomic_output(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on a clean exit it is synced and renamed onto `path`.

    OSErrors (unwritable folder, disk full) become one-line BadInputErrors naming `path`.
    """
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise BadInputError(f"cannot write {path}: {err.strerror}") from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(handle, mode, encoding=encoding) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; an output is an ordinary file
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise BadInputError(f"cannot write {path}: {err.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    with atomic_output(path) as stream:
        stream.write(text)


def write_json_atomically(path: Path, document: dict) -> None:
    with atomic_output(path) as stream:
        json.dump(document, stream, indent=2)
        stream.write("\n")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(path: Path, *, force: bool = False, what: str = "output folder") -> Iterator[Path]:
    """Build a folder in a temporary sibling and move it onto `path` only when the block finishes cleanly.

    An existing `path` is refused unless `force`; with `force` it is replaced only at the very end, so a failed or
    interrupted run (any exception, Ctrl-C included) leaves the old folder, or nothing, and never a half-written
    one. Yields the temporary folder to write into.
    """
    path = Path(path)
    if path.exists() and not force:
        raise BadInputError(f"{what} {path} already exists; pass --force to replace it")
    if path.exists() and not path.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: it exists and is not a folder")
    parent = path.parent
    if not parent.is_dir():
        raise BadInputError(f"cannot write {what} {path}: its parent folder {parent} does not exist")
    try:
        temporary = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as err:
        raise BadInputError(f"cannot write {what} {path}: {err.strerror}") from None
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.", suffix=".old"))
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
