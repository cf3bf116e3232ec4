"""TFLite-Micro's GreedyMemoryPlanner, re-implemented from its description as the reference planner.

The algorithm (tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc): sort buffers by aligned size,
largest first; put the first at offset 0; place every following buffer at the lowest offset that does not
collide with an already-placed buffer whose lifetime overlaps its own.

Ties matter. TFLM adds buffers in tensor-index order but copies them into its sort array from the back, then sorts
with a stable bubble sort, so equal sizes are placed in *reverse* index order. Our buffer ids follow the lowest
tensor index, so ties go to the highest id first (greedy_order). With that rule this planner reproduces TFLM's
arena "head" on all four MLPerf Tiny models (vww_96_int8: 73,728 B; ties in index order would give 64,512 B).
"""

from __future__ import annotations

from collections.abc import Sequence

from sapool.memory.lifetimes import Buffer, aligned
from sapool.memory.planners.gaps import lowest_fit
from sapool.memory.planners.plan import MemoryPlan, PlanRequest, plan_from_offsets


def place_in_order(request: PlanRequest, order, fit) -> dict[int, int]:
    """Place buffers one at a time in `order`, each at the offset `fit` picks among its live neighbours."""
    offsets: dict[int, int] = {}
    placed = []
    for buffer in order:
        busy = [(offsets[other.id], offsets[other.id] + request.size(other))
                for other in placed if other.overlaps_in_time(buffer)]
        offsets[buffer.id] = fit(request.size(buffer), busy)
        placed.append(buffer)
    return offsets


def greedy_order(buffers: Sequence[Buffer], alignment: int = 16) -> list[Buffer]:
    """TFLM's placement order: aligned size, largest first; equal sizes highest id first."""
    return sorted(buffers, key=lambda b: (-aligned(b.size, alignment), -b.id))


def plan_greedy(request: PlanRequest) -> MemoryPlan:
    order = greedy_order(request.buffers, request.alignment)
    return plan_from_offsets("greedy", request, place_in_order(request, order, lowest_fit))
