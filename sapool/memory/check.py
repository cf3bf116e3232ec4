"""An independent check of a memory plan, sharing no code with the planners.

A plan is only trusted after this passes: a wrong offset would silently corrupt activations on the device.
It checks, from the buffers' own lifetimes and sizes: every buffer has an offset, offsets are aligned and not
negative, buffers live at the same op never share a byte, everything lies inside the arena, the arena size is
exactly what the offsets need, and (when given) the arena fits the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sapool.errors import VerificationError
from sapool.memory.lifetimes import Buffer, aligned

if TYPE_CHECKING:
    from sapool.memory.planners import MemoryPlan


def check_plan(
    buffers: Sequence[Buffer], plan: MemoryPlan, alignment: int = 16, arena_limit: int | None = None
) -> None:
    """Raise VerificationError with the first problem found; return None when the plan is valid."""
    name = plan.planner
    ids = {b.id for b in buffers}
    missing = sorted(ids - plan.offsets.keys())
    if missing:
        raise VerificationError(f"plan {name!r} has no offset for buffer(s) {missing}")
    unknown = sorted(plan.offsets.keys() - ids)
    if unknown:
        raise VerificationError(f"plan {name!r} places unknown buffer(s) {unknown}")

    extents = {}
    for b in buffers:
        offset = plan.offsets[b.id]
        if offset < 0 or offset % alignment:
            raise VerificationError(f"plan {name!r}: buffer {b.id} at offset {offset} is not a non-negative "
                                    f"multiple of {alignment}")
        extents[b.id] = (offset, offset + aligned(b.size, alignment))

    needed = max((end for _, end in extents.values()), default=0)
    if plan.arena_bytes != needed:
        raise VerificationError(f"plan {name!r} claims an arena of {plan.arena_bytes} B but its buffers span "
                                f"{needed} B")
    if arena_limit is not None and needed > arena_limit:
        raise VerificationError(f"plan {name!r} needs {needed} B, more than the {arena_limit} B available")

    by_start = sorted(buffers, key=lambda b: extents[b.id])
    for n, low in enumerate(by_start):
        low_start, low_end = extents[low.id]
        for high in by_start[n + 1:]:
            high_start, high_end = extents[high.id]
            if high_start >= low_end:
                break
            if high_start == high_end or low_start == low_end:
                continue
            if low.first <= high.last and high.first <= low.last:
                raise VerificationError(
                    f"plan {name!r}: buffers {low.id} [{low_start}, {low_end}) and {high.id} "
                    f"[{high_start}, {high_end}) overlap in memory while both live at op "
                    f"{max(low.first, high.first)}"
                )
