"""Finding room for one buffer among already-placed buffers that are live at the same time.

`busy` holds the [start, end) byte ranges of the placed buffers whose lifetimes overlap the new one; the
new buffer may go anywhere that does not intersect them. These run once per buffer per placement, so they are
written as plain loops without per-item calls: on a 1,000-op graph they are most of the planning time.
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
        if end > candidate:
            candidate = end
    found.append((candidate, None))
    return found


def lowest_fit(size: int, busy: Iterable[tuple[int, int]]) -> int:
    """The lowest offset that fits (first fit), as TFLite-Micro's greedy planner chooses."""
    candidate = 0
    for start, end in sorted(busy):
        if start - candidate >= size:
            return candidate
        if end > candidate:
            candidate = end
    return candidate


def tightest_fit(size: int, busy: Iterable[tuple[int, int]]) -> int:
    """The start of the smallest closed gap that fits (best fit), else the open space on top; ties go low."""
    best_length, best_start = None, 0
    candidate = 0
    for start, end in sorted(busy):
        length = start - candidate
        if length >= size and (best_length is None or length < best_length):
            best_length, best_start = length, candidate
        if end > candidate:
            candidate = end
    return candidate if best_length is None else best_start
