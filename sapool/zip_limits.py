"""Zip archives (.pt checkpoints, .pt2 exports) checked by their declared sizes before anything is inflated.

A zip member's header says how large it is once inflated; Python's zipfile and torch's reader both stop at that
size. So checking the declared sizes (each member, their sum, and how much larger than its compressed bytes a
member claims to be) before any member is read bounds the memory a hostile archive can take: a 1 MB "zip bomb"
that inflates to gigabytes is refused here in microseconds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sapool.errors import BadInputError

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB: far above any model sapool can place in an MCU's flash
MAX_TOTAL_BYTES = 2 << 30
MAX_RATIO = 200  # deflate reaches ~1000x only on degenerate data; torch writes members uncompressed (ratio 1)
RATIO_FLOOR_BYTES = 1 << 20  # small members may compress as they like


def open_checked(path: Path) -> zipfile.ZipFile:
    """`path` opened as a zip whose members' declared sizes are all within the limits; BadInputError otherwise.

    The caller closes it (use as a context manager)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
        raise BadInputError(f"{path}: damaged or truncated zip archive ({err})") from None
    try:
        check_members(path, archive.infolist())
    except BaseException:
        archive.close()
        raise
    return archive


def check_members(path: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise BadInputError(f"{path}: the archive has {len(members):,} members; a model archive has far fewer "
                            f"(at most {MAX_MEMBERS:,} are read)")
    total = 0
    for member in members:
        size, packed = member.file_size, member.compress_size
        if size > MAX_MEMBER_BYTES:
            raise BadInputError(f"{path}: member {member.filename!r} inflates to {size:,} bytes; sapool reads members "
                                f"of at most {MAX_MEMBER_BYTES:,} bytes")
        if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(packed, 1):
            raise BadInputError(f"{path}: member {member.filename!r} inflates {size // max(packed, 1):,}-fold "
                                f"({packed:,} → {size:,} bytes): a zip bomb, not a model")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise BadInputError(f"{path}: the archive inflates to {total:,} bytes; sapool reads at most "
                            f"{MAX_TOTAL_BYTES:,}")


def read_member(path: Path, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One member's bytes, refused when it declares more than `limit` (a JSON document, say)."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise BadInputError(f"{path}: member {name!r} is {info.file_size:,} bytes; at most {limit:,} expected")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as err:
        raise BadInputError(f"{path}: cannot read member {name!r} ({err})") from None
