"""Model + target → MemoryReport: lifetimes, placement in the target's RAM regions, per-layer costs.

This is the whole of `sapool plan` minus the rendering. It reads the model once, computes buffer lifetimes,
lets placement pick regions and arena offsets (which also runs the planners and their independent check), and
collects the per-op figures the report shows. `--ram-budget` replaces the target's data regions by one region of
that size; flash is still compared with the target's flash.
"""

from __future__ import annotations

import time
from pathlib import Path

from sapool.errors import BadInputError
from sapool.ir.analysis import op_macs
from sapool.ir.graph import Graph
from sapool.ir.read import read_tflite
from sapool.memory.lifetimes import Buffer, compute_lifetimes, live_bytes_per_op, lower_bound
from sapool.memory.placement import Placement, place
from sapool.memory.planners import PLANNERS
from sapool.memory.report import BufferRow, LayerRow, MemoryReport, RegionRow
from sapool.targets import Region, Target, budget_region, get_target

PLANNER_CHOICES = ("best", *PLANNERS)


def analyze(
    model_path: str | Path,
    target: str | None = None,
    *,
    ram_budget: int | None = None,
    planner: str = "best",
    alignment: int = 16,
) -> MemoryReport:
    """Plan the activations of the .tflite at `model_path` for `target` (or a bare `ram_budget`)."""
    started = time.perf_counter()
    check_planner(planner)
    if target is None and ram_budget is None:
        raise BadInputError("give a --target, a --ram-budget, or both")
    target_info = get_target(target) if target is not None else None
    graph = read_tflite(model_path)
    return analyze_graph(
        graph,
        target_info,
        model_name=Path(model_path).name,
        ram_budget=ram_budget,
        planner=planner,
        alignment=alignment,
        started=started,
    )


def check_planner(planner: str) -> None:
    if planner not in PLANNER_CHOICES:
        raise BadInputError(f"unknown planner '{planner}'; choose one of: {', '.join(PLANNER_CHOICES)}")


def analyze_graph(
    graph: Graph,
    target: Target | None,
    *,
    model_name: str,
    ram_budget: int | None = None,
    planner: str = "best",
    alignment: int = 16,
    started: float | None = None,
) -> MemoryReport:
    """The report for an already-read graph; `started` (a perf_counter value) lets `elapsed_s` include reading."""
    started = time.perf_counter() if started is None else started
    regions = _regions(target, ram_budget)
    buffers = compute_lifetimes(graph)
    num_ops = len(graph.ops)
    placement = place(buffers, num_ops, regions, planner=planner, alignment=alignment)
    live = live_bytes_per_op(buffers, num_ops, alignment)
    return MemoryReport(
        model=model_name,
        target=target.name if target is not None else "budget",
        target_part=target.part if target is not None else None,
        ram_budget_bytes=ram_budget,
        planner=planner,
        alignment=alignment,
        layers=tuple(_layer_rows(graph, buffers, live)),
        buffers=tuple(_buffer_rows(graph, buffers, placement)),
        regions=tuple(_region_rows(placement)),
        lower_bound_bytes=lower_bound(buffers, num_ops, alignment),
        split=placement.split,
        ram_fits=placement.fits,
        weights_bytes=unique_weight_bytes(graph),
        flash_size_bytes=target.flash_size if target is not None else None,
        elapsed_s=time.perf_counter() - started,
    )


def unique_weight_bytes(graph: Graph) -> int:
    """Flash the constants need, each counted once even when several ops read it."""
    constants = {i for op in graph.ops for i in op.inputs if i >= 0 and graph.tensor(i).is_constant}
    return sum(graph.tensor(i).nbytes for i in constants)


def _regions(target: Target | None, ram_budget: int | None) -> tuple[Region, ...]:
    if ram_budget is not None:
        return (budget_region(ram_budget),)
    if not target.data_regions:
        raise BadInputError(f"target '{target.name}' has no data RAM regions to plan activations into")
    return target.data_regions


def _layer_rows(graph: Graph, buffers: list[Buffer], live: list[int]):
    buffer_of = {tensor: buffer.id for buffer in buffers for tensor in buffer.tensors}
    for position, op in enumerate(graph.ops):
        outputs = [i for i in op.outputs if i >= 0]
        yield LayerRow(
            index=position,
            op=op.opcode,
            output_shape=graph.tensor(outputs[0]).shape if outputs else (),
            output_bytes=sum(graph.tensor(i).nbytes for i in outputs),
            weight_bytes=graph.weight_bytes(op),
            macs=op_macs(graph, op),
            live_bytes=live[position],
            output_buffers=tuple(dict.fromkeys(buffer_of[i] for i in outputs if i in buffer_of)),
        )


def _buffer_rows(graph: Graph, buffers: list[Buffer], placement: Placement):
    for buffer in buffers:
        yield BufferRow(
            id=buffer.id,
            tensors=tuple(graph.tensor(i).name for i in buffer.tensors),
            size_bytes=buffer.size,
            first=buffer.first,
            last=buffer.last,
            region=placement.region_of[buffer.id],
            offset=placement.arena_offset(buffer.id),
            address=placement.address_of(buffer.id),
        )


def _region_rows(placement: Placement):
    for use in placement.regions:
        yield RegionRow(
            name=use.name,
            base=use.base,
            size_bytes=use.size_bytes,
            used_bytes=use.used_bytes,
            planner=use.plan.planner if use.plan is not None and use.buffer_ids else None,
            proven_optimal=bool(use.plan is not None and use.plan.proven_optimal),
        )
