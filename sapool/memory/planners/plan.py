"""What every planner takes (PlanRequest) and gives back (MemoryPlan).

A PlanRequest also carries what every planner needs and nobody should compute twice: aligned sizes, the lifetime
conflict lists (which buffers are live at the same time as which) and the lower bound. These are computed once,
in O(n log n + number of conflicting pairs), and shared by all the planners "best" runs: recomputing them per
order or per call is what made planning quadratic-and-worse on graphs of 1,000 ops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sapool.memory.lifetimes import Buffer, aligned

_SHARED = ("sizes", "conflicts", "lower_bound")  # cached properties handed on by PlanRequest.with_incumbent


@dataclass(frozen=True)
class MemoryPlan:
    planner: str
    offsets: dict[int, int]  # buffer id -> byte offset in the arena (multiples of alignment)
    arena_bytes: int  # max(offset + aligned(size)); 0 for no buffers
    proven_optimal: bool
    notes: tuple[str, ...] = field(default=(), compare=False)  # e.g. why the exact planner stepped aside


@dataclass(frozen=True)
class PlanRequest:
    """One planning problem. Heuristics read buffers and alignment; the exact planner also uses the rest.

    `deadline` (a time.monotonic() value) is when every planner must have returned; make_plan sets it from its
    time limit, so the limit covers all the work of all the planners it runs. A planner past its deadline still
    returns a valid plan: the one greedy pass (O(n log n + conflicts)) is the least any planner does.
    """

    buffers: tuple[Buffer, ...]
    alignment: int = 16
    time_limit_s: float = 5.0
    incumbent: MemoryPlan | None = None  # a known valid plan: an upper bound for the exact planner
    deadline: float | None = None

    def size(self, buffer: Buffer) -> int:
        return aligned(buffer.size, self.alignment)

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        """Aligned size of each buffer, by position in `buffers`."""
        return tuple(aligned(b.size, self.alignment) for b in self.buffers)

    @cached_property
    def conflicts(self) -> tuple[tuple[int, ...], ...]:
        """For each buffer position, the positions of the other non-empty buffers live at some same op.

        Empty buffers conflict with nothing (they take no bytes). A sweep over lifetimes sorted by start: each
        buffer conflicts with the still-open ones started before it, so the cost is the number of pairs.
        """
        sizes = self.sizes
        order = sorted((n for n, b in enumerate(self.buffers) if sizes[n]), key=lambda n: self.buffers[n].first)
        found: list[list[int]] = [[] for _ in self.buffers]
        open_: list[int] = []
        for n in order:
            start = self.buffers[n].first
            open_ = [m for m in open_ if self.buffers[m].last >= start]
            for m in open_:
                found[m].append(n)
                found[n].append(m)
            open_.append(n)
        return tuple(tuple(neighbours) for neighbours in found)

    @cached_property
    def lower_bound(self) -> int:
        """The busiest op's aligned live bytes, from a difference array over op indices."""
        if not self.buffers:
            return 0
        change = [0] * (max(b.last for b in self.buffers) + 2)
        for b, size in zip(self.buffers, self.sizes):
            if b.last >= b.first:
                change[b.first] += size
                change[b.last + 1] -= size
        live = peak = 0
        for delta in change:
            live += delta
            peak = max(peak, live)
        return peak

    @property
    def pair_count(self) -> int:
        return sum(len(c) for c in self.conflicts) // 2

    def with_incumbent(self, incumbent: MemoryPlan | None) -> PlanRequest:
        """The same problem with a new starting plan, keeping what was already computed."""
        request = PlanRequest(self.buffers, self.alignment, self.time_limit_s, incumbent, self.deadline)
        request.__dict__.update({key: self.__dict__[key] for key in _SHARED if key in self.__dict__})
        return request

    def seconds_left(self) -> float:
        """Time left before the deadline (the whole time limit when no deadline was set)."""
        return self.time_limit_s if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


Planner = Callable[[PlanRequest], MemoryPlan]


def plan_from_offsets(name: str, request: PlanRequest, offsets: Mapping[int, int], notes=()) -> MemoryPlan:
    """Wrap offsets as a MemoryPlan, computing its arena and whether it meets the lower bound (then it is optimal)."""
    arena = max((offsets[b.id] + size for b, size in zip(request.buffers, request.sizes)), default=0)
    return MemoryPlan(
        planner=name,
        offsets={b.id: offsets[b.id] for b in request.buffers},
        arena_bytes=arena,
        proven_optimal=arena <= request.lower_bound,
        notes=tuple(notes),
    )


def offsets_by_id(request: PlanRequest, by_position: list[int]) -> dict[int, int]:
    return {b.id: offset for b, offset in zip(request.buffers, by_position)}
