"""What every planner takes (PlanRequest) and gives back (MemoryPlan)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sapool.memory.lifetimes import Buffer, aligned, lower_bound


@dataclass(frozen=True)
class MemoryPlan:
    planner: str
    offsets: dict[int, int]  # buffer id -> byte offset in the arena (multiples of alignment)
    arena_bytes: int  # max(offset + aligned(size)); 0 for no buffers
    proven_optimal: bool


@dataclass(frozen=True)
class PlanRequest:
    """One planning problem. Heuristics read buffers and alignment; the exact planner also uses the rest."""

    buffers: tuple[Buffer, ...]
    alignment: int = 16
    time_limit_s: float = 5.0
    incumbent: MemoryPlan | None = None  # a known valid plan: an upper bound for the exact planner

    @property
    def lower_bound(self) -> int:
        return lower_bound(self.buffers, 0, self.alignment)

    def size(self, buffer: Buffer) -> int:
        return aligned(buffer.size, self.alignment)


Planner = Callable[[PlanRequest], MemoryPlan]


def plan_from_offsets(name: str, request: PlanRequest, offsets: Mapping[int, int]) -> MemoryPlan:
    """Wrap offsets as a MemoryPlan, computing its arena and whether it meets the lower bound (then it is optimal)."""
    arena = max((offsets[b.id] + request.size(b) for b in request.buffers), default=0)
    return MemoryPlan(
        planner=name,
        offsets={b.id: offsets[b.id] for b in request.buffers},
        arena_bytes=arena,
        proven_optimal=arena <= request.lower_bound,
    )
