"""Writing outputs so that nobody ever sees half a file, and nothing is destroyed that should not be.

The conventions every command follows (docs/cli_conventions.md):
- A regular file (or a new one) is written to a temporary sibling `.NAME.<pid>.XXXX.tmp`, synced and renamed
  onto the target, so a crash, a full disk, Ctrl-C or SIGTERM (the CLI turns it into an exception) leaves the
  old file or the new one. Temporaries of a process that died without cleaning up (SIGKILL, power loss) are
  removed by the next write to the same target: the pid in the name says whose they are.
- `-` means standard output (reports only: `allow_stdout=True`).
- A symlink is followed: the file it points to is replaced, the link stays. A character device or a FIFO
  (/dev/null, /dev/stdout, a named pipe) is written through, never replaced by a regular file. Anything else
  that is not a regular file (a block device, a socket, a folder) is refused.
- An output that is one of the command's inputs, or lies inside an input folder, is refused (`inputs=`), before
  any work. Output folders: sapool.output_folders.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sapool.errors import BadInputError

STDOUT = "-"


def is_stdout(path) -> bool:
    return str(path) == STDOUT


def check_output_path(path: Path, what: str = "output", *, inputs: Iterable = (), allow_stdout: bool = False) -> None:
    """Fail before any work when `path` cannot or must not be written, so a bad -o never costs a whole run."""
    if is_stdout(path):
        if not allow_stdout:
            raise BadInputError(f"cannot write {what} to standard output (-o -): give a file name")
        return
    path = Path(path)
    target = _resolve(path)
    for source in inputs:
        if source is None or is_stdout(source):
            continue
        if _same_file(target, Path(source)):
            raise BadInputError(f"-o {path} is also an input of this command; refusing to overwrite it")
        if Path(source).is_dir() and _inside(target, Path(source)):
            raise BadInputError(f"-o {path} lies inside the input folder {source}; write the {what} elsewhere")
    if target.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: it is a directory")
    if target.exists() and _kind(target) == "other":
        raise BadInputError(f"cannot write {what} to {path}: it is neither a regular file, a character device "
                            "nor a FIFO")
    if _kind(target) == "stream":
        return
    if not target.parent.is_dir():
        raise BadInputError(f"cannot write {what} to {path}: output folder does not exist ({target.parent})")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise BadInputError(f"cannot write {what} to {path}: output folder {target.parent} is not writable")


@contextmanager
def atomic_output(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open `path` for writing following the module's conventions (`-` is stdout).

    A regular file goes through a temporary sibling that is synced and renamed onto the target on a clean exit.
    OSErrors (unwritable folder, disk full) become one-line BadInputErrors naming `path`.
    """
    binary = "b" in mode
    if is_stdout(path):
        stream = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    path = Path(path)
    target = _resolve(path)
    kind = _kind(target)
    if kind == "other":
        raise BadInputError(f"cannot write {path}: it is neither a regular file, a character device nor a FIFO")
    if kind == "stream":
        try:
            with open(target, mode, encoding=None if binary else "utf-8") as stream:
                yield stream
        except OSError as err:
            raise BadInputError(f"cannot write {path}: {err.strerror}") from None
        return
    remove_stale_temporaries(target)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                             suffix=".tmp")
    except OSError as err:
        raise BadInputError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(handle, mode, encoding=None if binary else "utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; an output is an ordinary file
        os.replace(temporary, target)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise BadInputError(f"cannot write {path}: {err.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete `.NAME.<pid>.*.tmp` siblings of `path` left by processes that no longer run; return them.

    A live writer's temporary (another sapool writing the same file right now) is left alone.
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^/]*\.tmp$")
    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        found = pattern.match(sibling.name)
        if found and not _process_alive(int(found.group(1))):
            try:
                if sibling.is_dir() and not sibling.is_symlink():
                    shutil.rmtree(sibling)
                else:
                    sibling.unlink()
                removed.append(sibling)
            except OSError:
                pass
    return removed


def strict_json(document, *, indent: int | None = 2) -> str:
    """JSON text that any parser accepts: NaN and ±Infinity (a diverged loss, say) become null.

    Every command's JSON goes through here (json.dumps alone writes NaN/Infinity, which is not JSON).
    """
    return json.dumps(_finite(document), indent=indent, allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_text_atomically(path: Path, text: str) -> None:
    with atomic_output(path) as stream:
        stream.write(text)


def write_json_atomically(path: Path, document: dict) -> None:
    with atomic_output(path) as stream:
        stream.write(strict_json(document) + "\n")


def _resolve(path: Path) -> Path:
    """Follow symlinks (the link stays, its target is written); a dangling link's target is created.

    Paths under /dev and /proc are kept as given (see _kind).
    """
    return Path(os.path.realpath(path)) if path.is_symlink() and not _is_system_path(path) else path


def _kind(path: Path) -> str:
    """"file" (regular or absent), "stream" (character device, FIFO) or "other" (block device, socket, folder).

    A regular file reached through /dev or /proc is a stream too: /dev/stdout leads through /proc/self/fd to
    whatever stdout is (a pipe, a terminal, a file the shell opened), and renaming over it would lose the output.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    if stat.S_ISREG(mode):
        return "stream" if _is_system_path(path) else "file"
    return "other"


def _is_system_path(path: Path) -> bool:
    return Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",))


def _same_file(output: Path, source: Path) -> bool:
    try:
        return output.exists() and source.exists() and os.path.samefile(output, source)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    """True when `path` (existing or not) lies somewhere below `folder`, links resolved."""
    try:
        return Path(os.path.realpath(folder)) in Path(os.path.realpath(path)).parents
    except (OSError, ValueError):
        return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):
        return False
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
