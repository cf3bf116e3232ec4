"""Activation memory: tensor lifetimes, arena planners and an independent plan checker.

Typical use: `buffers = compute_lifetimes(graph)`, `plan = make_plan(buffers)`, then `check_plan(buffers, plan)`
(make_plan already checks every plan it returns).
"""

from sapool.memory.check import check_plan
from sapool.memory.lifetimes import Buffer, aligned, compute_lifetimes, live_bytes_per_op, lower_bound
from sapool.memory.planners import PLANNERS, MemoryPlan, make_plan

__all__ = [
    "PLANNERS",
    "Buffer",
    "MemoryPlan",
    "aligned",
    "check_plan",
    "compute_lifetimes",
    "live_bytes_per_op",
    "lower_bound",
    "make_plan",
]
