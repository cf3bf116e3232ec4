"""The one planning recipe: (graph, target, options) → the Layout every command shows and the firmware runs.

    graph ──prepare_for_c──► the graph sapool's C kernels run (fused chains; with patches "auto" a patch-based
          early stage where it lowers the peak)
          ──scratch_needs──► every kernel's scratch, always declared (patch buffers included)
          ──regions_for────► the target's data regions, or one `ram_budget` region (neither: unbounded)
          ──plan_layout────► Layout (lifetimes → planner → placement → independent check), kept

`sapool plan`, `sapool compile`, `sapool emulate MODEL.tflite`, `sapool train --dry-run` and `sapool prune --fit`
all call `plan_model` (the torch-side ones through models.footprint, on the graph the export will have), so a
model, a target and the same options get one peak and one fit answer whatever the command.

The TFLite-Micro export's offline plan is a second layout, named as such (`tflm_layout`): TFLM's kernels run the
model's own ops (no fusions, no patches, nothing in place) in one arena, so it is derived once from the model's
graph, next to the firmware's, and never re-planned by the exporter.

This module sits above memory/ (which plans any graph and knows no backend) and backends/ (which lower and
export a Layout they are given, and plan nothing themselves).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sapool.backends.c import prepare_for_c, scratch_needs
from sapool.errors import BadInputError
from sapool.ir.graph import Graph
from sapool.memory.analyze import build_report, regions_for
from sapool.memory.layout import UNBOUNDED, Layout, plan_layout
from sapool.memory.planners import PLANNERS
from sapool.memory.report import MemoryReport
from sapool.targets import Target, get_target

PLANNER_CHOICES = ("best", *PLANNERS)


@dataclass(frozen=True)
class PlanOptions:
    """What a user may change about a plan; every command takes these, with these defaults."""

    ram_budget: int | None = None  # bytes: one region of this size instead of the target's data regions
    planner: str = "best"
    patches: str = "auto"  # "auto": a patch stage where it lowers the peak; "off": never
    rounding: str = "tflm"  # whose FULLY_CONNECTED rounding the firmware matches: "tflm" (TFLite-Micro) or "tflite"
    alignment: int = 16
    time_limit_s: float = 5.0  # the planners' shared budget; past it they keep their best checked plan


def check_planner(planner: str) -> None:
    if planner not in PLANNER_CHOICES:
        raise BadInputError(f"unknown planner '{planner}'; choose one of: {', '.join(PLANNER_CHOICES)}")


def firmware_graph(graph: Graph, patches: str = "auto", rounding: str = "tflm") -> tuple[Graph, dict[int, int]]:
    """(the graph sapool's C kernels run, {op index: kernel scratch bytes}) for the model's `graph`.

    Shape-only, so it serves an unquantised estimate graph (models.footprint) as it serves the int8 export."""
    prepared = prepare_for_c(graph, patches, rounding)
    return prepared, scratch_needs(prepared)


def plan_model(graph: Graph, target: Target | None, options: PlanOptions = PlanOptions()) -> Layout:
    """The Layout of the model's `graph` as the firmware runs it on `target` (or in `options.ram_budget`; with
    neither, unbounded). Its `graph` is the prepared one, its `peak_arena_bytes` and `fits` the answer."""
    check_planner(options.planner)
    prepared, scratch = firmware_graph(graph, options.patches, options.rounding)
    if target is None and options.ram_budget is None:
        regions = (UNBOUNDED,)
    else:
        regions = regions_for(target, options.ram_budget)
    return plan_layout(prepared, regions, planner=options.planner, alignment=options.alignment, scratch=scratch,
                       time_limit_s=options.time_limit_s)


def tflm_layout(graph: Graph, firmware: Layout) -> Layout:
    """The TFLite-Micro offline plan of the model's `graph`: one arena, TFLM's 16-byte alignment, nothing in
    place, the planner `firmware` used. `firmware` itself when it already is such a plan of `graph`."""
    from sapool.backends.tflm.offline_plan import single_arena_layout

    return single_arena_layout(firmware, graph)


def plan_file(model_path: str | Path, target: str | None, options: PlanOptions = PlanOptions()) -> MemoryReport:
    """`sapool plan`: the report of the int8 .tflite at `model_path` planned by `plan_model` for the target
    named `target` (or the budget alone)."""
    from sapool.ir.read import read_tflite

    started = time.perf_counter()
    check_planner(options.planner)
    if target is None and options.ram_budget is None:
        raise BadInputError("give a --target, a --ram-budget, or both")
    target_info = get_target(target) if target is not None else None
    return plan_report(read_tflite(model_path), target_info, options, model_name=Path(model_path).name,
                       started=started)


def plan_report(graph: Graph, target: Target | None, options: PlanOptions = PlanOptions(), *, model_name: str,
                started: float | None = None) -> MemoryReport:
    """The per-layer report of `plan_model`'s Layout; `started` (a perf_counter value) lets `elapsed_s` include
    reading the model."""
    started = time.perf_counter() if started is None else started
    layout = plan_model(graph, target, options)
    return build_report(layout, target, model_name=model_name, ram_budget=options.ram_budget, started=started)
