"""Layout → MemoryReport: the per-op figures, buffers and regions `sapool plan` and `sapool compile` print.

The report is rendered from a Layout already planned (sapool.planning.plan_model: the one recipe), the same
object the code generators read. `regions_for` turns a target or a `--ram-budget` (one region of that size;
flash is still compared with the target's flash) into the regions to plan into.
"""

from __future__ import annotations

import time

from sapool.errors import BadInputError
from sapool.ir.analysis import op_macs
from sapool.ir.graph import Graph
from sapool.memory.layout import Layout
from sapool.passes.patches import PATCH_STAGE, patched_macs, unpatched_macs
from sapool.memory.report import BufferRow, LayerRow, MemoryReport, PatchStageRow, RegionRow
from sapool.targets import Region, Target, budget_region


def build_report(
    layout: Layout,
    target: Target | None,
    *,
    model_name: str,
    ram_budget: int | None = None,
    started: float | None = None,
    source_kind: str = "tflite-int8",
) -> MemoryReport:
    """The per-layer report of a Layout already planned (sapool.planning.plan_model)."""
    started = time.perf_counter() if started is None else started
    graph = layout.graph
    return MemoryReport(
        model=model_name,
        target=target.name if target is not None else "budget",
        target_part=target.part if target is not None else None,
        ram_budget_bytes=ram_budget,
        planner=layout.planner,
        alignment=layout.alignment,
        layers=tuple(_layer_rows(layout)),
        buffers=tuple(_buffer_rows(layout)),
        regions=tuple(_region_rows(layout)),
        lower_bound_bytes=layout.lower_bound_bytes,
        tensor_lower_bound_bytes=layout.tensor_lower_bound_bytes,
        unpatched_lower_bound_bytes=layout.unpatched_lower_bound_bytes,
        patch_stages=tuple(_patch_rows(layout)),
        split=layout.placement.split,
        ram_fits=layout.fits,
        weights_bytes=unique_weight_bytes(graph),
        flash_size_bytes=target.flash_size if target is not None else None,
        elapsed_s=time.perf_counter() - started,
        source_kind=source_kind,
        notes=tuple(dict.fromkeys(note for use in layout.placement.regions if use.plan for note in use.plan.notes)),
    )


def unique_weight_bytes(graph: Graph) -> int:
    """Flash the constants need, each counted once even when several ops read it."""
    constants = {i for op in graph.ops for i in op.inputs if i is not None and graph.tensor(i).is_constant}
    return sum(graph.tensor(i).nbytes for i in constants)


def regions_for(target: Target | None, ram_budget: int | None) -> tuple[Region, ...]:
    """The data regions to plan into: the budget as one region when given, else the target's data regions."""
    if ram_budget is not None:
        return (budget_region(ram_budget),)
    if target is None:
        raise BadInputError("give a --target, a --ram-budget, or both")
    if not target.data_regions:
        raise BadInputError(f"target '{target.name}' has no data RAM regions to plan activations into")
    return target.data_regions


def _layer_rows(layout: Layout):
    graph = layout.graph
    for position, op in enumerate(graph.ops):
        outputs = list(op.outputs)
        yield LayerRow(
            index=position,
            op=op.opcode,
            output_shape=graph.tensor(outputs[0]).shape if outputs else (),
            output_bytes=sum(graph.tensor(i).nbytes for i in outputs),
            weight_bytes=graph.weight_bytes(op),
            macs=op_macs(graph, op),
            live_bytes=layout.live_bytes[position],
            output_buffers=tuple(dict.fromkeys(
                b for b in map(layout.buffer_of_tensor, outputs) if b is not None)),
            in_place=position in layout.in_place_ops,
            patches=_patch_label(op),
            name=op.name,
        )


def _patch_label(op) -> str:
    if op.opcode != PATCH_STAGE:
        return ""
    ops, grid = op.options.ops, op.options.grid
    return f"ops {ops[0].index}-{ops[-1].index} in {grid[0]}x{grid[1]} patches"


def _patch_rows(layout: Layout):
    graph = layout.graph
    for op in layout.patch_stages:
        options = op.options
        yield PatchStageRow(
            layer=op.index,
            ops=tuple(inner.index for inner in options.ops),
            opcodes=tuple(inner.opcode for inner in options.ops),
            grid=options.grid,
            patch_buffer_bytes=options.buffer_bytes,
            macs=unpatched_macs(graph, op),
            patched_macs=patched_macs(graph, op),
        )


def _buffer_rows(layout: Layout):
    graph = layout.graph
    for buffer in layout.buffers:
        slot = layout.buffer_slot(buffer.id)
        names = tuple(graph.tensor(i).name for i in buffer.tensors)
        yield BufferRow(
            id=buffer.id,
            tensors=names or (f"scratch of op {buffer.first}",),
            size_bytes=buffer.size,
            first=buffer.first,
            last=buffer.last,
            region=slot.region,
            offset=slot.offset,
            address=slot.address,
            kind=buffer.kind,
        )


def _region_rows(layout: Layout):
    for use in layout.regions:
        yield RegionRow(
            name=use.name,
            base=use.base,
            size_bytes=use.size_bytes,
            used_bytes=use.used_bytes,
            planner=use.plan.planner if use.plan is not None and use.buffer_ids else None,
            proven_optimal=bool(use.plan is not None and use.plan.proven_optimal),
        )
