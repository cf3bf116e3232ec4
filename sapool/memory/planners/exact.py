"""Exact planning: a mixed-integer program solved with HiGHS, within a time limit.

Model, in units of `alignment` bytes (all sizes are multiples of it, so integer offsets lose nothing):
    minimise  A
    A >= o_i + s_i                                  for every buffer i
    o_i + s_i <= o_j + M (1 - z_ij)                 } for every pair i, j whose lifetimes overlap:
    o_j + s_j <= o_i + M z_ij                       } z_ij = 1 puts i below j, z_ij = 0 puts j below i
    LB <= A <= UB,  0 <= o_i <= UB - s_i,  M = UB
UB is the incumbent's arena (the best heuristic plan, also handed to HiGHS as its starting solution) and LB the
lifetime lower bound, which gives the solver its dual bound from the start: when the incumbent equals LB no model
is built at all. Only time-overlapping pairs get a binary, and one of them is fixed (z = 1 for the pair with the
largest combined size) to remove the mirror symmetry (flipping a plan upside down keeps its arena).

The solution is read back as an above/below relation and turned into offsets by a longest-path pass, so offsets
are exact integers and each buffer sits as low as the relation allows (the arena can only shrink).
"""

from __future__ import annotations

import numpy as np

from sapool.memory.lifetimes import Buffer
from sapool.memory.planners.multi_order import plan_multi_order
from sapool.memory.planners.plan import MemoryPlan, PlanRequest, plan_from_offsets


def plan_exact(request: PlanRequest) -> MemoryPlan:
    incumbent = request.incumbent or plan_multi_order(request)
    if incumbent.arena_bytes <= request.lower_bound:
        return plan_from_offsets("exact", request, incumbent.offsets)
    solved = [b for b in request.buffers if request.size(b) > 0]
    pairs = [(a, b) for n, a in enumerate(solved) for b in solved[n + 1:] if a.overlaps_in_time(b)]
    below, proven = _solve(request, solved, pairs, incumbent)
    offsets = {b.id: 0 for b in request.buffers}
    offsets.update(_stack(request, solved, below))
    plan = plan_from_offsets("exact", request, offsets)
    return MemoryPlan("exact", plan.offsets, plan.arena_bytes, plan.proven_optimal or proven)


def _solve(request: PlanRequest, buffers: list[Buffer], pairs, incumbent: MemoryPlan):
    """Return the (lower, upper) buffer pairs of the best solution found, and whether HiGHS proved it optimal.

    HiGHS starts from the incumbent, so it always has a solution at least that good, even when time runs out.
    """
    import highspy  # imported here: only planning problems the heuristics cannot close need it

    unit = request.alignment
    size = {b.id: request.size(b) // unit for b in buffers}
    upper = incumbent.arena_bytes // unit
    column = {b.id: n for n, b in enumerate(buffers)}
    arena_col = len(buffers)
    z_col = {pair: arena_col + 1 + n for n, pair in enumerate(pairs)}
    num_cols = arena_col + 1 + len(pairs)

    lower_bounds = np.zeros(num_cols)
    upper_bounds = np.array([upper - size[b.id] for b in buffers] + [upper] + [1] * len(pairs), dtype=float)
    lower_bounds[arena_col] = -(-request.lower_bound // unit)
    start_values = _start_values(request, buffers, pairs, incumbent)
    if pairs:  # break the mirror symmetry the way the incumbent already has it, so the start stays feasible
        widest = z_col[max(pairs, key=lambda p: size[p[0].id] + size[p[1].id])]
        lower_bounds[widest] = upper_bounds[widest] = start_values[widest]
    rows: list[tuple[float, float, list[int], list[float]]] = []
    for b in buffers:  # A - o_i >= s_i
        rows.append((size[b.id], np.inf, [arena_col, column[b.id]], [1.0, -1.0]))
    for pair in pairs:
        a, b = pair
        oa, ob, z = column[a.id], column[b.id], z_col[pair]
        rows.append((-np.inf, upper - size[a.id], [oa, ob, z], [1.0, -1.0, upper]))  # a below b when z = 1
        rows.append((-np.inf, -size[b.id], [ob, oa, z], [1.0, -1.0, -upper]))  # b below a when z = 0

    rows += _clique_rows(request, buffers, size, column, arena_col, z_col)

    highs = highspy._Highs()  # the plain solver class: highspy.Highs() prints a banner to stdout
    for option, value in (("output_flag", False), ("time_limit", float(request.time_limit_s)),
                          ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.999), ("threads", 1)):
        highs.setOptionValue(option, value)
    highs.addVars(num_cols, lower_bounds, upper_bounds)
    highs.changeColsIntegrality(num_cols, np.arange(num_cols, dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger] * num_cols))
    highs.changeColCost(arena_col, 1.0)
    starts, indices, values = [], [], []
    for _, _, cols, coefs in rows:
        starts.append(len(indices))
        indices.extend(cols)
        values.extend(coefs)
    highs.addRows(len(rows), np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=float),
                  len(indices), np.array(starts, dtype=np.int32), np.array(indices, dtype=np.int32),
                  np.array(values, dtype=float))
    start = highspy.HighsSolution()
    start.col_value = start_values
    highs.setSolution(start)
    highs.run()

    proven = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    found = highs.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    values = highs.getSolution().col_value if found else start_values
    below = [(a, b) if values[z_col[(a, b)]] > 0.5 else (b, a) for a, b in pairs]
    return below, proven


def _clique_rows(request: PlanRequest, buffers: list[Buffer], size, column, arena_col, z_col):
    """Cuts that tie offsets to the order: buffers live at one op stack, so those below i push it up.

    For each maximal set C of buffers live at one op and each i in C:
        o_i >= sum of s_j over j in C below i,    A >= o_i + s_i + sum of s_j over j in C above i.
    Any plan satisfies them; they make the LP bound tight where the big-M rows alone are loose.
    """
    rows = []
    for clique in _maximal_live_sets(buffers):
        for i in clique:
            below_cols, below_coefs, above_cols, above_coefs, below_const, above_const = [], [], [], [], 0.0, 0.0
            for j in clique:
                if j is i:
                    continue
                pair = (i, j) if (i, j) in z_col else (j, i)
                z = z_col[pair]
                if pair[0] is i:  # z = 1 puts i below j
                    above_cols.append(z); above_coefs.append(-size[j.id])
                    below_cols.append(z); below_coefs.append(size[j.id])
                    below_const += -size[j.id]
                else:  # z = 1 puts j below i
                    below_cols.append(z); below_coefs.append(-size[j.id])
                    above_cols.append(z); above_coefs.append(size[j.id])
                    above_const += -size[j.id]
            # o_i - sum(s_j [j below i]) >= 0, with [j below i] = z or 1 - z
            rows.append((-below_const, np.inf, [column[i.id], *below_cols], [1.0, *below_coefs]))
            # A - o_i - sum(s_j [i below j]) >= s_i
            rows.append((size[i.id] - above_const, np.inf, [arena_col, column[i.id], *above_cols],
                         [1.0, -1.0, *above_coefs]))
    return rows


def _maximal_live_sets(buffers: list[Buffer]) -> list[list[Buffer]]:
    """The sets of buffers live at one op that are not contained in another such set (an interval graph's cliques)."""
    steps = sorted({b.first for b in buffers})
    sets = [frozenset(b.id for b in buffers if b.first <= t <= b.last) for t in steps]
    maximal = [s for s in set(sets) if len(s) > 1 and not any(s < other for other in sets)]
    by_id = {b.id: b for b in buffers}
    return [[by_id[i] for i in sorted(s)] for s in sorted(maximal, key=sorted)]


def _start_values(request: PlanRequest, buffers, pairs, incumbent: MemoryPlan) -> list[float]:
    """The incumbent plan as a solution vector, so HiGHS starts from it (and may only improve on it)."""
    unit = request.alignment
    offsets = incumbent.offsets
    values = [offsets[b.id] / unit for b in buffers] + [incumbent.arena_bytes / unit]
    values += [1.0 if offsets[a.id] < offsets[b.id] else 0.0 for a, b in pairs]
    return values


def _stack(request: PlanRequest, buffers: list[Buffer], below) -> dict[int, int]:
    """Offsets from an above/below relation: each buffer sits right on top of the highest buffer below it."""
    under: dict[int, list[Buffer]] = {b.id: [] for b in buffers}
    over: dict[int, list[int]] = {b.id: [] for b in buffers}
    for low, high in below:
        under[high.id].append(low)
        over[low.id].append(high.id)
    offsets: dict[int, int] = {}
    waiting = {b.id: len(under[b.id]) for b in buffers}
    ready = [b for b in buffers if waiting[b.id] == 0]
    by_id = {b.id: b for b in buffers}
    while ready:
        buffer = ready.pop()
        offsets[buffer.id] = max((offsets[low.id] + request.size(low) for low in under[buffer.id]), default=0)
        for high in over[buffer.id]:
            waiting[high] -= 1
            if waiting[high] == 0:
                ready.append(by_id[high])
    return offsets
