"""Exact planning: a mixed-integer program solved with HiGHS, within a time limit.

Model, in units of `alignment` bytes (all sizes are multiples of it, so integer offsets lose nothing):
    minimise  A
    A >= o_i + s_i                                  for every buffer i
    o_i + s_i <= o_j + M (1 - z_ij)                 } for every pair i, j whose lifetimes overlap:
    o_j + s_j <= o_i + M z_ij                       } z_ij = 1 puts i below j, z_ij = 0 puts j below i
    LB <= A <= UB,  0 <= o_i <= UB - s_i,  M = UB
plus, for every maximal set C of buffers live at one op and every i in C (buffers live together stack up):
    o_i >= sum of s_j over j in C below i,     A >= o_i + s_i + sum of s_j over j in C above i.
Without these the LP relaxation sets z = 1/2 and learns nothing; with them its bound is at least LB for any z.

UB is the incumbent's arena (the best heuristic plan, also handed to HiGHS as its starting solution) and LB the
lifetime lower bound: when the incumbent equals LB no model is built at all. Only time-overlapping pairs get a
binary. Flipping a plan upside down keeps its arena and reverses every pair, so one pair (the widest) is fixed to
the incumbent's orientation, which halves the search and keeps the start feasible.

The solution is read back as an above/below relation and turned into offsets by a longest-path pass, so offsets
are exact integers and each buffer sits as low as the relation allows (the arena can only shrink).

The time limit covers everything: building the rows stops at the request's deadline and HiGHS gets only the time
that is left. Where the program would be too large to build and solve in seconds (MAX_PAIRS, MAX_NONZEROS), the
planner steps aside and returns the incumbent with a note saying why; the report shows that note.
"""

from __future__ import annotations

from math import inf

from sapool.memory.lifetimes import Buffer
from sapool.memory.planners.multi_order import plan_multi_order
from sapool.memory.planners.plan import MemoryPlan, PlanRequest, plan_from_offsets

Row = tuple[float, float, list[int], list[float]]  # lower, upper, columns, coefficients


# Past these sizes the integer program is too large to build and solve within seconds (a 200-op graph with long
# skip connections has 7,000 pairs, and HiGHS found nothing better than the heuristics in 6 s; a 100-op one has
# 1,800 and used all of its 5 s for nothing): step aside.
MAX_PAIRS = 1_500
MAX_NONZEROS = 150_000


def plan_exact(request: PlanRequest) -> MemoryPlan:
    incumbent = request.incumbent or plan_multi_order(request)
    if incumbent.arena_bytes <= request.lower_bound:
        return plan_from_offsets("exact", request, incumbent.offsets)
    solved = [b for b, size in zip(request.buffers, request.sizes) if size > 0]  # empty buffers: offset 0
    cliques = _maximal_live_sets(solved)
    too_large = _too_large(request.pair_count, cliques)
    if too_large:
        return _step_aside(request, incumbent, too_large)
    position = {b.id: n for n, b in enumerate(request.buffers)}
    pairs = [(a, request.buffers[m]) for a in solved for m in request.conflicts[position[a.id]]
             if position[a.id] < m]
    model = _Model(request, solved, pairs, cliques, incumbent)
    if model.rows is None:
        return _step_aside(request, incumbent, "the time limit ran out while its integer program was being built")
    below, proven = _solve(model, request.seconds_left())
    offsets = {b.id: 0 for b in request.buffers}
    offsets.update(_stack(request, solved, below))
    plan = plan_from_offsets("exact", request, offsets)
    return MemoryPlan("exact", plan.offsets, plan.arena_bytes, plan.proven_optimal or proven)


def _too_large(pairs: int, cliques: list[list[Buffer]]) -> str | None:
    """Why the integer program would be too large to build and solve in seconds, or None when it is not."""
    nonzeros = 6 * pairs + sum(len(c) * (2 * len(c) + 3) for c in cliques)
    if pairs > MAX_PAIRS or nonzeros > MAX_NONZEROS:
        return (f"its integer program would have {pairs:,} pair variables and {nonzeros:,} nonzeros "
                f"(limits {MAX_PAIRS:,} and {MAX_NONZEROS:,})")
    return None


def _step_aside(request: PlanRequest, incumbent: MemoryPlan, why: str) -> MemoryPlan:
    note = f"exact planner stepped aside: {why}; the plan is the best heuristic one ({incumbent.planner})"
    return plan_from_offsets("exact", request, incumbent.offsets, notes=(*incumbent.notes, note))


class _Model:
    """The program's columns (offsets, then A, then one z per pair), bounds, rows and start vector."""

    def __init__(self, request: PlanRequest, buffers: list[Buffer], pairs, cliques, incumbent: MemoryPlan):
        unit = request.alignment
        self.pairs = pairs
        self.size = {b.id: request.size(b) // unit for b in buffers}
        self.column = {b.id: n for n, b in enumerate(buffers)}
        self.arena = len(buffers)
        self.z = {pair: self.arena + 1 + n for n, pair in enumerate(pairs)}
        upper = incumbent.arena_bytes // unit

        offsets = incumbent.offsets
        self.start = [offsets[b.id] / unit for b in buffers] + [float(upper)]
        self.start += [1.0 if offsets[a.id] < offsets[b.id] else 0.0 for a, b in pairs]
        self.lower = [0.0] * len(self.start)
        self.upper = [float(upper - self.size[b.id]) for b in buffers] + [float(upper)] + [1.0] * len(pairs)
        self.lower[self.arena] = float(-(-request.lower_bound // unit))
        if pairs:
            widest = self.z[max(pairs, key=lambda p: self.size[p[0].id] + self.size[p[1].id])]
            self.lower[widest] = self.upper[widest] = self.start[widest]

        self.rows: list[Row] = []
        for b in buffers:  # A - o_i >= s_i
            self.rows.append((self.size[b.id], inf, [self.arena, self.column[b.id]], [1.0, -1.0]))
        for pair in pairs:
            a, b = pair
            oa, ob, z = self.column[a.id], self.column[b.id], self.z[pair]
            self.rows.append((-inf, upper - self.size[a.id], [oa, ob, z], [1.0, -1.0, upper]))  # a below b if z = 1
            self.rows.append((-inf, -self.size[b.id], [ob, oa, z], [1.0, -1.0, -upper]))  # b below a if z = 0
        for clique in cliques:
            if request.out_of_time():
                self.rows = None  # the caller steps aside: building alone used up the time limit
                return
            for i in clique:
                self.rows += self._stacking_rows(i, [j for j in clique if j is not i])

    def _stacking_rows(self, i: Buffer, others: list[Buffer]) -> list[Row]:
        """o_i >= sum s_j [j below i] and A >= o_i + s_i + sum s_j (1 - [j below i]), for buffers live with i."""
        columns, weights, constant = [], [], 0.0  # sum s_j [j below i] = sum weights * z + constant
        for j in others:
            if (i, j) in self.z:  # z = 1 puts i below j: [j below i] = 1 - z
                columns.append(self.z[(i, j)])
                weights.append(-self.size[j.id])
                constant += self.size[j.id]
            else:  # z = 1 puts j below i: [j below i] = z
                columns.append(self.z[(j, i)])
                weights.append(self.size[j.id])
        o_i, total = self.column[i.id], sum(self.size[j.id] for j in others)
        return [
            (constant, inf, [o_i, *columns], [1.0, *(-w for w in weights)]),
            (self.size[i.id] + total - constant, inf, [self.arena, o_i, *columns], [1.0, -1.0, *weights]),
        ]


def _solve(model: _Model, time_limit_s: float):
    """Return the (lower, upper) buffer pairs of the best solution found, and whether HiGHS proved it optimal.

    HiGHS starts from the incumbent, so it has a solution at least that good even when time runs out.
    """
    import highspy  # imported here, like numpy: only problems the heuristics cannot close need them
    import numpy as np

    highs = highspy._Highs()  # the plain solver class: highspy.Highs() prints a banner to stdout
    # presolve off: with presolve and a start solution, HiGHS 1.16 declared a non-optimal start optimal (the
    # 11-buffer case in tests/memory/test_planners.py); without presolve these small models solve as fast.
    for option, value in (("output_flag", False), ("time_limit", float(time_limit_s)), ("presolve", "off"),
                          ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.999), ("threads", 1)):
        highs.setOptionValue(option, value)
    num_cols = len(model.start)
    highs.addVars(num_cols, np.array(model.lower), np.array(model.upper))
    highs.changeColsIntegrality(num_cols, np.arange(num_cols, dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger] * num_cols))
    highs.changeColCost(model.arena, 1.0)
    starts, indices, values = [], [], []
    for _, _, columns, coefficients in model.rows:
        starts.append(len(indices))
        indices.extend(columns)
        values.extend(coefficients)
    highs.addRows(len(model.rows), np.array([r[0] for r in model.rows]), np.array([r[1] for r in model.rows]),
                  len(indices), np.array(starts, dtype=np.int32), np.array(indices, dtype=np.int32),
                  np.array(values, dtype=float))
    start = highspy.HighsSolution()
    start.col_value = model.start
    highs.setSolution(start)
    highs.run()

    proven = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    found = highs.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    solution = highs.getSolution().col_value if found else model.start
    below = [(a, b) if solution[model.z[(a, b)]] > 0.5 else (b, a) for a, b in model.pairs]
    return below, proven


def _maximal_live_sets(buffers: list[Buffer]) -> list[list[Buffer]]:
    """Sets of buffers live at one op that no other such set contains (an interval graph's maximal cliques).

    Only a start time can open a maximal set, and the set live at one start time is contained in the set at the
    next start time unless one of its buffers ends before that: so one sweep over the start times finds them all.
    """
    starts = sorted({b.first for b in buffers})
    by_start = sorted(buffers, key=lambda b: b.first)
    live: list[Buffer] = []
    found, taken = [], 0
    for k, step in enumerate(starts):
        while taken < len(by_start) and by_start[taken].first == step:
            live.append(by_start[taken])
            taken += 1
        live = [b for b in live if b.last >= step]
        following = starts[k + 1] if k + 1 < len(starts) else None
        if len(live) > 1 and (following is None or any(b.last < following for b in live)):
            found.append(sorted(live, key=lambda b: b.id))
    return found


def _stack(request: PlanRequest, buffers: list[Buffer], below) -> dict[int, int]:
    """Offsets from an above/below relation: each buffer sits right on top of the highest buffer below it."""
    under: dict[int, list[Buffer]] = {b.id: [] for b in buffers}
    over: dict[int, list[Buffer]] = {b.id: [] for b in buffers}
    for low, high in below:
        under[high.id].append(low)
        over[low.id].append(high)
    waiting = {b.id: len(under[b.id]) for b in buffers}
    ready = [b for b in buffers if waiting[b.id] == 0]
    offsets: dict[int, int] = {}
    while ready:
        buffer = ready.pop()
        offsets[buffer.id] = max((offsets[low.id] + request.size(low) for low in under[buffer.id]), default=0)
        for high in over[buffer.id]:
            waiting[high.id] -= 1
            if waiting[high.id] == 0:
                ready.append(high)
    return offsets
