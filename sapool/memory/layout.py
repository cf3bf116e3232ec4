"""The memory layout: where every buffer of one graph lives, computed once and kept.

`plan_layout` runs the one planning path (lifetimes → planner → placement in the target's regions → independent
check) and returns a Layout. Everything downstream reads that same object: the per-layer report (`sapool plan`),
the torch-side estimate (`train --dry-run`, `prune --fit`), the C code generator (arena offsets per tensor and per
kernel scratch) and the TFLite-Micro offline plan. So the peak the report prints is the arena the firmware gets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from sapool.ir.graph import Graph
from sapool.memory.check import check_buffers
from sapool.passes.check_patches import check_patch_stages
from sapool.memory.lifetimes import Buffer, compute_lifetimes, live_bytes_per_op, lower_bound
from sapool.passes.patches import expand, stages
from sapool.memory.placement import Placement, RegionUse, place
from sapool.targets import Region, budget_region

# Region used when there is no target and no budget: the plan alone, with nothing to fit into.
UNBOUNDED = budget_region(1 << 62)


@dataclass(frozen=True)
class Slot:
    """Where one buffer sits: `offset` within its region's arena, `address` = region base + offset."""

    region: str
    offset: int
    address: int
    size: int  # unaligned bytes of the buffer (of the tensor, for a tensor's slot)


@dataclass(frozen=True)
class Layout:
    """One graph's buffers, their lifetimes and their places. Frozen: read it, never re-plan it."""

    graph: Graph
    buffers: tuple[Buffer, ...]
    placement: Placement
    planner: str
    alignment: int
    in_place: bool = False  # whether ops were allowed to write over a dying input (memory/in_place.py)

    @property
    def regions(self) -> tuple[RegionUse, ...]:
        """Every data region given, fastest first, with the bytes of arena it holds (0 when unused)."""
        return self.placement.regions

    @property
    def fits(self) -> bool:
        return self.placement.fits

    @property
    def peak_arena_bytes(self) -> int:
        """Activation RAM the plan needs: the sum of every region's arena (one figure everywhere)."""
        return sum(use.used_bytes for use in self.placement.regions)

    @cached_property
    def live_bytes(self) -> list[int]:
        """Aligned bytes resident during each op (any plan needs at least this much at that op)."""
        return live_bytes_per_op(self.buffers, len(self.graph.ops), self.alignment)

    @property
    def lower_bound_bytes(self) -> int:
        """No plan of these buffers (with the in-place merges made) can need less arena than this."""
        return lower_bound(self.buffers, len(self.graph.ops), self.alignment)

    @cached_property
    def tensor_lower_bound_bytes(self) -> int:
        """The lower bound when every tensor keeps bytes of its own (no op in place, no patches): what in-place
        and patch-based execution beat."""
        if not self.in_place_ops and not self.patch_stages:
            return self.lower_bound_bytes
        return self._unpatched_bound(in_place=False)

    @cached_property
    def unpatched_lower_bound_bytes(self) -> int:
        """The lower bound of the same ops with in-place layers but no patch stage: what the patches beat."""
        return self._unpatched_bound(in_place=True) if self.patch_stages else self.lower_bound_bytes

    @property
    def patch_stages(self) -> tuple:
        """The ops that run a stage of the model patch by patch (passes/patches.py), in execution order."""
        return tuple(stages(self.graph))

    def _unpatched_bound(self, in_place: bool) -> int:
        """The bound of the graph with its stages expanded back into their ops, with the scratch of every op
        outside the stages (a stage's own patch buffers and inner kernel scratch are not carried over)."""
        graph, moved = expand(self.graph)
        scratch = {moved[b.first]: b.size for b in self.buffers if b.kind == "scratch" and b.first in moved}
        return lower_bound(compute_lifetimes(graph, scratch=scratch, in_place=in_place), len(graph.ops),
                           self.alignment)

    @cached_property
    def in_place_ops(self) -> frozenset[int]:
        """Indices of the ops that write their output over one of their inputs."""
        return frozenset(op for buffer in self.buffers for op in buffer.in_place_ops)

    def buffer_slot(self, buffer_id: int) -> Slot:
        region = self.placement.region_of[buffer_id]
        return Slot(region, self.placement.arena_offset(buffer_id), self.placement.address_of(buffer_id),
                    self.buffers[buffer_id].size)

    def tensor_slot(self, tensor_index: int) -> Slot:
        """The slot of an activation tensor (a view op's output shares its input's; an in-place output sits
        in its input's buffer, at its own offset). KeyError for constants."""
        buffer = self.buffers[self._buffer_of_tensor[tensor_index]]
        slot = self.buffer_slot(buffer.id)
        within = buffer.offset_of(tensor_index)
        return Slot(slot.region, slot.offset + within, slot.address + within, self.graph.tensor(tensor_index).nbytes)

    def scratch_slot(self, op_index: int) -> Slot | None:
        """The scratch buffer declared for `op_index`, or None when the op asked for none."""
        buffer_id = self._scratch_of_op.get(op_index)
        return None if buffer_id is None else self.buffer_slot(buffer_id)

    def buffer_of_tensor(self, tensor_index: int) -> int | None:
        return self._buffer_of_tensor.get(tensor_index)

    @cached_property
    def _buffer_of_tensor(self) -> dict[int, int]:
        return {tensor: buffer.id for buffer in self.buffers for tensor in buffer.tensors}

    @cached_property
    def _scratch_of_op(self) -> dict[int, int]:
        return {buffer.first: buffer.id for buffer in self.buffers if buffer.kind == "scratch"}


def plan_layout(
    graph: Graph,
    regions: Sequence[Region] = (UNBOUNDED,),
    *,
    planner: str = "best",
    alignment: int = 16,
    scratch: Mapping[int, int] | None = None,
    time_limit_s: float = 5.0,
    in_place: bool = True,
) -> Layout:
    """Plan `graph`'s activations (and kernel scratch: op index → bytes) into `regions`, fastest first.

    `in_place` lets ops write over an input that dies at them, where that lowers memory (memory/in_place.py):
    sapool's C kernels all honour it; pass False for a runtime whose kernels may not (TFLite-Micro). When the
    in-place plan does not fit the regions but the plain one does, the plain one is returned.
    The buffers are checked against the graph (check_buffers: every tensor inside its buffer's lifetime, every
    shared byte justified by a view or an in-place op) and placement checks every region's plan with the
    independent checker, so a returned Layout has no two tensors live at the same op that overlap in memory
    unless an in-place op writes one over the other. A Layout that does not fit (`fits` False) is still
    complete: the buffers that fit nowhere sit in the largest region, past its end, so reports can say by how much.
    """
    buffers = tuple(compute_lifetimes(graph, scratch=scratch, in_place=in_place))
    check_buffers(graph, buffers)
    check_patch_stages(graph, scratch)
    placement = place(buffers, len(graph.ops), regions, planner=planner, alignment=alignment,
                      time_limit_s=time_limit_s)
    layout = Layout(graph=graph, buffers=buffers, placement=placement, planner=planner, alignment=alignment,
                    in_place=in_place)
    if placement.fits or not layout.in_place_ops:
        return layout
    # An in-place buffer is larger than either tensor alone, so it may fit no region of a split placement
    # where the separate tensors do: then the plan without in-place execution is the better one.
    separate = plan_layout(graph, regions, planner=planner, alignment=alignment, scratch=scratch,
                           time_limit_s=time_limit_s, in_place=False)
    return separate if separate.fits else layout
