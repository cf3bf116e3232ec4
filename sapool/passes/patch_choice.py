"""Which stage, if any, to run by patches: the one that lowers the lower bound of the plan the most.

Candidates are every sub-run of a stage run (patches.stage_runs) that covers all the ops where the bound is
reached (a stage elsewhere cannot lower the busiest op), at most MAX_STAGE_OPS long, split into an n×n grid for
n in GRID_SIZES. Each is scored by the lower bound of the rewritten graph with in-place layers and every op's
scratch (its patch buffers and kernel scratch included), the figure the planners reach on the MLPerf models;
ties go to the option with the least recompute. Options whose recompute exceeds MAX_RECOMPUTE of the model's
MACs are not taken. A stage is chosen only when it lowers the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sapool.ir.analysis import model_macs
from sapool.ir.graph import Graph
from sapool.passes.patches import rewrite, stage_runs

GRID_SIZES = range(2, 9)
MAX_STAGE_OPS = 8
MAX_RECOMPUTE = 0.25  # extra MACs, as a share of the whole model's

LiveBytes = Callable[[Graph], Sequence[int]]  # bytes live during each op, kernel scratch and in-place layers included


@dataclass(frozen=True)
class PatchChoice:
    """The graph to plan (rewritten or not) and the bound before and after."""

    graph: Graph
    lower_bound_bytes: int
    unpatched_lower_bound_bytes: int


def choose_patches(graph: Graph, live_bytes: LiveBytes) -> PatchChoice:
    """The best patch stage for `graph` (see the module doc); `live_bytes(graph)` gives the bytes live during each
    op of a candidate graph as the planner will see them (memory.lifetimes with the backend's kernel scratch, a
    PATCH_STAGE op's patch buffers included, and in-place layers): the caller, above memory/, supplies it."""
    baseline_live = list(live_bytes(graph))
    baseline = max(baseline_live, default=0)
    busiest = [n for n, live in enumerate(baseline_live) if live == baseline]
    macs = model_macs(graph)
    best, best_key = graph, (baseline, macs)
    for first, last in stage_runs(graph):
        if not busiest or busiest[0] < first or busiest[-1] > last:
            continue
        for start in range(first, busiest[0] + 1):
            for stop in range(max(busiest[-1], start + 1), min(last, start + MAX_STAGE_OPS - 1) + 1):
                for n in GRID_SIZES:
                    candidate = rewrite(graph, start, stop, (n, n))
                    if candidate is None:
                        break  # finer grids do not fit either
                    candidate_macs = model_macs(candidate)
                    if candidate_macs - macs > MAX_RECOMPUTE * macs:
                        break  # finer grids only recompute more
                    key = (max(live_bytes(candidate), default=0), candidate_macs)
                    if key < best_key:
                        best, best_key = candidate, key
    return PatchChoice(best, best_key[0], baseline)
