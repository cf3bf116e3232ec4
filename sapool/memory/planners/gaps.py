"""Finding room for one buffer among already-placed buffers that are live at the same time.

`busy` holds the [start, end) byte ranges of the placed buffers whose lifetimes overlap the new one; the
new buffer may go anywhere that does not intersect them.
"""

from __future__ import annotations

from collections.abc import Iterable


def gaps(size: int, busy: Iterable[tuple[int, int]]) -> list[tuple[int, int | None]]:
    """Every free range [start, start + length) that fits `size`, bottom-up; the last one is open (length None)."""
    found: list[tuple[int, int | None]] = []
    candidate = 0
    for start, end in sorted(busy):
        if start - candidate >= size:
            found.append((candidate, start - candidate))
        candidate = max(candidate, end)
    found.append((candidate, None))
    return found


def lowest_fit(size: int, busy: Iterable[tuple[int, int]]) -> int:
    """The lowest offset that fits (first fit), as TFLite-Micro's greedy planner chooses."""
    return gaps(size, busy)[0][0]


def tightest_fit(size: int, busy: Iterable[tuple[int, int]]) -> int:
    """The start of the smallest closed gap that fits (best fit), else the open space on top; ties go low."""
    found = gaps(size, busy)
    closed = [(length, start) for start, length in found if length is not None]
    return min(closed)[1] if closed else found[-1][0]
