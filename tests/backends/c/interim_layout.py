"""TEMPORARY until the core refactor's plan_layout lands: a Layout-shaped view of today's placement."""
from dataclasses import dataclass

from sapool.memory.lifetimes import Buffer, compute_lifetimes
from sapool.memory.placement import place
from sapool.targets import budget_region


@dataclass(frozen=True)
class Slot:
    region: str
    offset: int
    size: int


@dataclass(frozen=True)
class RegionUse:
    name: str
    used_bytes: int


class InterimLayout:
    def __init__(self, graph, scratch, regions=None):
        buffers = compute_lifetimes(graph)
        self._tensor_buffer = {t: b.id for b in buffers for t in b.tensors}
        self._scratch_buffer = {}
        for op_index, size in scratch.items():
            buffer = Buffer(id=len(buffers), tensors=(), size=size, first=op_index, last=op_index)
            buffers.append(buffer)
            self._scratch_buffer[op_index] = buffer.id
        self._sizes = {b.id: b.size for b in buffers}
        self.placement = place(buffers, len(graph.ops), regions or [budget_region(4 << 20)])
        self.regions = [RegionUse(u.name, u.used_bytes) for u in self.placement.regions]

    def _slot(self, buffer_id):
        return Slot(self.placement.region_of[buffer_id], self.placement.arena_offset(buffer_id), self._sizes[buffer_id])

    def tensor_slot(self, tensor):
        return self._slot(self._tensor_buffer[tensor])

    def scratch_slot(self, op_index):
        buffer_id = self._scratch_buffer.get(op_index)
        return None if buffer_id is None else self._slot(buffer_id)
