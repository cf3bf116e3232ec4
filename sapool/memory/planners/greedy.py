"""TFLite-Micro's GreedyMemoryPlanner, re-implemented from its description as the reference planner.

The algorithm (tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc): sort buffers by aligned size,
largest first; put the first at offset 0; place every following buffer at the lowest offset that does not
collide with an already-placed buffer whose lifetime overlaps its own.

Ties matter. TFLM adds buffers in tensor-index order but copies them into its sort array from the back, then sorts
with a stable bubble sort, so equal sizes are placed in *reverse* index order. Our buffer ids follow the lowest
tensor index, so ties go to the highest id first (greedy_order). With that rule this planner reproduces TFLM's
arena "head" on all four MLPerf Tiny models (vww_96_int8: 73,728 B; ties in index order would give 64,512 B).

Placing one buffer looks only at its lifetime conflicts (PlanRequest.conflicts), so a whole placement costs
O(n log n + conflicting pairs) instead of O(n²).
"""

from __future__ import annotations

from collections.abc import Sequence

from sapool.memory.lifetimes import Buffer, aligned
from sapool.memory.planners.gaps import lowest_fit
from sapool.memory.planners.plan import MemoryPlan, PlanRequest, offsets_by_id, plan_from_offsets


def place_in_order(request: PlanRequest, order: Sequence[int], fit) -> list[int]:
    """Offsets by buffer position: each buffer of `order` (positions) where `fit` puts it among its placed conflicts."""
    sizes, conflicts = request.sizes, request.conflicts
    offsets = [-1] * len(sizes)
    for n in order:
        busy = [(offsets[m], offsets[m] + sizes[m]) for m in conflicts[n] if offsets[m] >= 0]
        offsets[n] = fit(sizes[n], busy)
    return offsets


def greedy_order(buffers: Sequence[Buffer], alignment: int = 16) -> list[Buffer]:
    """TFLM's placement order: aligned size, largest first; equal sizes highest id first."""
    return sorted(buffers, key=lambda b: (-aligned(b.size, alignment), -b.id))


def greedy_positions(request: PlanRequest) -> list[int]:
    """greedy_order as positions in request.buffers."""
    buffers, sizes = request.buffers, request.sizes
    return sorted(range(len(buffers)), key=lambda n: (-sizes[n], -buffers[n].id))


def plan_greedy(request: PlanRequest) -> MemoryPlan:
    offsets = place_in_order(request, greedy_positions(request), lowest_fit)
    return plan_from_offsets("greedy", request, offsets_by_id(request, offsets))
