"""Files sapool reads (models, samples, manifests, --input): regular files of bounded size, checked before opening.

Opening a FIFO for reading blocks until something writes to it, and a character device (/dev/zero, /dev/urandom)
never ends, so a path that should name a file is stat'ed first: anything but a regular file (links followed) is
one BadInputError naming it, and so is a file larger than the reader's limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sapool.errors import BadInputError


def require_regular_file(path: Path, what: str = "file", *, max_bytes: int | None = None) -> int:
    """The size of `path`, a regular file; BadInputError for a missing path, a folder, FIFO, device or socket, or a
    file of more than `max_bytes`."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except (OSError, ValueError) as err:
        raise BadInputError(f"{path}: cannot read the {what} ({getattr(err, 'strerror', None) or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise BadInputError(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise BadInputError(f"{path}: {kind}, not a regular file; sapool reads the {what} from a file (a FIFO would "
                            "block, a device never end)")
    if max_bytes is not None and info.st_size > max_bytes:
        raise BadInputError(f"{path}: {info.st_size:,} bytes; the {what} sapool reads is at most {max_bytes:,} bytes")
    return info.st_size
