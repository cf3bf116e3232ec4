"""Placing planned activation buffers into a target's RAM regions.

A buffer (and so any arena) must sit inside one region, because regions are separate address ranges. The rule:
1. Plan all buffers together. If that arena fits a region, put it all in the first region (fastest first) that
   is large enough: one arena in the fastest memory that holds it.
2. Otherwise split: go through the buffers largest first and put each into the fastest region where it still
   fits next to the buffers already there. "Fits" is the greedy rule (lowest free offset among the region's
   buffers live at the same time, TFLite-Micro's planner), which is cheap and exact to test one buffer at a time.
   Each region's final subset is then re-planned with the requested planner (never worse than greedy for the
   planners sapool has) and checked with check_plan against the region's size.
3. A buffer that fits no region makes the placement not fit. Such buffers are still placed, in the largest
   region, whose arena then exceeds its size: `used_bytes > size_bytes` there, so callers can report by how
   much the model is over budget (`Placement.over_budget_bytes`) instead of only "does not fit".
A `--ram-budget N` is modelled by the caller as the single region `budget_region(N)`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sapool.errors import BadInputError
from sapool.memory.check import check_plan
from sapool.memory.lifetimes import Buffer
from sapool.memory.planners import MemoryPlan, make_plan
from sapool.memory.planners.gaps import lowest_fit
from sapool.memory.planners.greedy import greedy_positions
from sapool.memory.planners.plan import PlanRequest
from sapool.targets import Region, budget_region

__all__ = ["Placement", "RegionUse", "budget_region", "place"]


@dataclass(frozen=True)
class RegionUse:
    """One data region and what was put in it; `plan` is None for an unused region."""

    name: str
    base: int
    size_bytes: int
    used_bytes: int  # the region's arena; larger than size_bytes only when the placement does not fit
    buffer_ids: tuple[int, ...]
    plan: MemoryPlan | None

    @property
    def over_budget_bytes(self) -> int:
        return max(0, self.used_bytes - self.size_bytes)


@dataclass(frozen=True)
class Placement:
    regions: tuple[RegionUse, ...]  # every data region given, in preference order (used or not)
    fits: bool
    split: bool  # True when buffers were spread over more than one region
    region_of: dict[int, str]  # buffer id -> region name

    def address_of(self, buffer_id: int) -> int:
        """The buffer's absolute address: its region's base plus its offset in that region's arena."""
        return self._use_of(buffer_id).base + self.arena_offset(buffer_id)

    def arena_offset(self, buffer_id: int) -> int:
        """The buffer's offset within its region's arena."""
        return self._use_of(buffer_id).plan.offsets[buffer_id]

    @property
    def over_budget_bytes(self) -> int:
        """How many bytes the regions would have to grow by to hold this placement; 0 when it fits."""
        return sum(use.over_budget_bytes for use in self.regions)

    def _use_of(self, buffer_id: int) -> RegionUse:
        if buffer_id not in self.region_of:
            raise KeyError(f"buffer {buffer_id} is not placed")
        name = self.region_of[buffer_id]
        return next(use for use in self.regions if use.name == name)


def place(
    buffers: Sequence[Buffer],
    num_ops: int,
    regions: Sequence[Region],
    planner: str = "best",
    alignment: int = 16,
    time_limit_s: float = 5.0,
) -> Placement:
    """Place `buffers` into the data regions among `regions` (fastest first); see the module doc for the rule.

    `time_limit_s` covers all the planning: the whole-arena plan and every region's re-plan share one deadline.
    """
    deadline = time.monotonic() + time_limit_s
    data_regions = [region for region in regions if region.kind == "data"]
    if not data_regions:
        raise BadInputError("no data region to place activations in")
    whole = make_plan(buffers, planner, alignment, time_limit_s, deadline=deadline)
    home = next((region for region in data_regions if whole.arena_bytes <= region.size), None)
    if home is not None:
        return _build(data_regions, {home.name: (list(buffers), whole)}, None, alignment)
    if len(data_regions) == 1:
        return _build(data_regions, {data_regions[0].name: (list(buffers), whole)}, data_regions[0].name, alignment)

    assigned, unplaced = _assign_largest_first(buffers, num_ops, data_regions, alignment)
    overfull = None
    if unplaced:
        overfull = max(data_regions, key=lambda region: region.size).name  # on a tie the first, i.e. faster, one
        assigned[overfull].extend(unplaced)
    given_order = {buffer.id: position for position, buffer in enumerate(buffers)}
    contents = {}
    for name, members in assigned.items():
        if members:
            subset = sorted(members, key=lambda buffer: given_order[buffer.id])
            contents[name] = (subset, make_plan(subset, planner, alignment, time_limit_s, deadline=deadline))
    return _build(data_regions, contents, overfull, alignment)


def _assign_largest_first(
    buffers: Sequence[Buffer], num_ops: int, regions: list[Region], alignment: int
) -> tuple[dict[str, list[Buffer]], list[Buffer]]:
    """Buffers per region by the split rule, and the buffers no region could take.

    The order (aligned size, largest first; ties highest id first) is the greedy planner's, so within each
    region the offsets found here are exactly the greedy plan of that region's subset, and the final plan of a
    region (greedy, or a planner that starts from greedy's order) is no larger. Each region keeps its live bytes
    per op, so the test "the bytes live at one op already exceed the region" costs one buffer's lifetime, and the
    free-offset search looks only at the buffer's lifetime conflicts.
    """
    request = PlanRequest(tuple(buffers), alignment)
    sizes, conflicts = request.sizes, request.conflicts
    steps = max([num_ops, *(b.last + 1 for b in buffers)])
    live = {region.name: [0] * steps for region in regions}
    assigned: dict[str, list[Buffer]] = {region.name: [] for region in regions}
    region_of: list[str | None] = [None] * len(buffers)
    offsets = [0] * len(buffers)
    unplaced: list[Buffer] = []
    for n in greedy_positions(request):
        buffer, size = buffers[n], sizes[n]
        for region in regions:
            during = live[region.name][buffer.first:buffer.last + 1]
            if max(during, default=0) + size > region.size:
                continue  # the bytes live at one op already exceed the region, whatever the layout
            busy = [(offsets[m], offsets[m] + sizes[m]) for m in conflicts[n] if region_of[m] == region.name]
            offset = lowest_fit(size, busy)
            if offset + size <= region.size:
                offsets[n], region_of[n] = offset, region.name
                for step in range(buffer.first, buffer.last + 1):
                    live[region.name][step] += size
                assigned[region.name].append(buffer)
                break
        else:
            unplaced.append(buffer)
    return assigned, unplaced


def _build(
    regions: list[Region],
    contents: dict[str, tuple[list[Buffer], MemoryPlan]],
    overfull: str | None,
    alignment: int,
) -> Placement:
    """Check every region's plan and assemble the Placement.

    Each plan must fit its region, except in the `overfull` region, which holds the buffers that fit nowhere:
    its plan is checked for overlaps only, and its excess over the region's size is the reported overflow.
    """
    uses, region_of = [], {}
    for region in regions:
        if region.name not in contents:
            uses.append(RegionUse(region.name, region.base, region.size, 0, (), None))
            continue
        subset, plan = contents[region.name]
        check_plan(subset, plan, alignment, arena_limit=None if region.name == overfull else region.size)
        ids = tuple(buffer.id for buffer in subset)
        uses.append(RegionUse(region.name, region.base, region.size, plan.arena_bytes, ids, plan))
        region_of.update((buffer_id, region.name) for buffer_id in ids)
    return Placement(
        regions=tuple(uses),
        fits=all(use.used_bytes <= use.size_bytes for use in uses),
        split=sum(1 for use in uses if use.buffer_ids) > 1,
        region_of=region_of,
    )
