"""TFLite-Micro's GreedyMemoryPlanner, re-implemented from its description as the reference planner.

The algorithm (tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc): sort buffers by aligned size,
largest first, with a stable sort so equal sizes keep the order they were added in (TFLM adds tensors in index
order; our buffer ids follow the lowest tensor index); put the first at offset 0; place every following buffer at
the lowest offset that does not collide with an already-placed buffer whose lifetime overlaps its own. With the
same lifetimes this gives the same arena as TFLM's "head" (the non-persistent activation area).
"""

from __future__ import annotations

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


def plan_greedy(request: PlanRequest) -> MemoryPlan:
    order = sorted(reversed(request.buffers), key=lambda b: -request.size(b))
    return plan_from_offsets("greedy", request, place_in_order(request, order, lowest_fit))
