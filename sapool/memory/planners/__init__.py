"""Arena planners: give every activation buffer a byte offset so that buffers live at the same time never overlap.

PLANNERS maps a name to a function PlanRequest -> MemoryPlan:
- "greedy": TFLite-Micro's greedy-by-size planner, the reference the others are measured against;
- "multi_order": the greedy placement tried with several orders and fit rules, keeping the best;
- "exact": a mixed-integer program (HiGHS) started from the best heuristic plan, proves optimality when it can.
make_plan(..., planner="best") runs them in that order and stops as soon as a plan meets the lower bound.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from sapool.errors import BadInputError, VerificationError
from sapool.memory.check import check_plan
from sapool.memory.lifetimes import Buffer
from sapool.memory.planners.exact import plan_exact
from sapool.memory.planners.greedy import plan_greedy
from sapool.memory.planners.multi_order import plan_multi_order
from sapool.memory.planners.plan import MemoryPlan, Planner, PlanRequest

PLANNERS: dict[str, Planner] = {
    "greedy": plan_greedy,
    "multi_order": plan_multi_order,
    "exact": plan_exact,
}

__all__ = ["PLANNERS", "MemoryPlan", "PlanRequest", "Planner", "make_plan"]


def make_plan(
    buffers: Sequence[Buffer],
    planner: str = "best",
    alignment: int = 16,
    time_limit_s: float = 5.0,
    *,
    deadline: float | None = None,
) -> MemoryPlan:
    """Plan the arena with one named planner, or with "best": the smallest checked plan of all of them.

    Every returned plan has passed check_plan. For "best" the exact planner gets the best heuristic plan as its
    starting point and upper bound, and runs only if no heuristic reached the lower bound. `time_limit_s` bounds
    all of the work, every planner's included (a caller planning several problems can pass one shared
    `deadline`, a time.monotonic() value, instead); past it, the planners return the best valid plan they have.
    """
    if alignment <= 0:
        raise BadInputError(f"alignment must be a positive number of bytes, got {alignment}")
    if not time_limit_s >= 0:
        raise BadInputError(f"time limit must be a number of seconds >= 0, got {time_limit_s}")
    deadline = min(time.monotonic() + time_limit_s, deadline if deadline is not None else float("inf"))
    request = PlanRequest(tuple(buffers), alignment, time_limit_s, deadline=deadline)
    if planner != "best":
        if planner not in PLANNERS:
            raise BadInputError(f"unknown planner {planner!r}; choose one of: best, {', '.join(PLANNERS)}")
        plan = PLANNERS[planner](request)
        check_plan(buffers, plan, alignment)
        return plan

    best: MemoryPlan | None = None
    failures: list[str] = []
    notes: dict[str, None] = {}  # every planner's notes (an exact planner that stepped aside says so), in order
    for name, run in PLANNERS.items():
        plan = run(request.with_incumbent(best))
        notes.update(dict.fromkeys(plan.notes))
        try:
            check_plan(buffers, plan, alignment)
        except VerificationError as error:
            failures.append(f"{name}: {error}")
            continue
        if best is None or plan.arena_bytes < best.arena_bytes or (
            plan.arena_bytes == best.arena_bytes and plan.proven_optimal and not best.proven_optimal
        ):
            best = plan
        if best.proven_optimal:
            break
    if best is None:
        raise VerificationError("no planner produced a valid plan: " + "; ".join(failures))
    return replace(best, notes=tuple(notes))
