"""Which channel groups hold the int8 activation bytes at each op: what memory-aware pruning needs to know.

The int8 graph (models.footprint.torch_to_graph) names its tensors after the fx nodes of the export form, where
SAP layers are traced through; the channel groups (groups.py) come from a different trace, with SAP layers kept
whole. Rather than matching the two traces rule by rule, `channel_owners` measures it: it prunes one group at a
time (half its channels), writes the int8 graph again and records which activation tensors shrank. Those tensors
hold that group's channels; a tensor that shrinks for no group (the model input, SAP's embed-dim tokens and its
heads × L × L attention scores, the class logits) does not depend on channel pruning at all. One trace per
prunable group: about 0.25 s each for mcunet.

Live bytes come from the planner's own lifetimes (`compute_lifetimes`, `live_bytes_per_op`, 16-byte alignment as
`plan_layout` uses), so "the peak op" here is the op the planner's lower bound comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from sapool.ir.graph import Graph
from sapool.memory.lifetimes import Buffer, compute_lifetimes, live_bytes_per_op
from sapool.models.footprint import firmware_graph, torch_to_graph
from sapool.prune.channels import prune_channels
from sapool.prune.groups import ChannelGroup

ALIGNMENT = 16  # plan_layout's default, which int8_peak_activation uses


@dataclass(frozen=True)
class LiveMemory:
    """One int8 graph's buffers and the aligned bytes live during each op (the planner's lower bound per op)."""

    graph: Graph
    buffers: tuple[Buffer, ...]
    live: tuple[int, ...]

    @property
    def peak_op(self) -> int:
        """The first op with the most bytes live."""
        return max(range(len(self.live)), key=self.live.__getitem__)

    def bytes_by_group(self, position: int, owners: dict[str, str]) -> tuple[dict[str, int], int]:
        """The bytes live at op `position` per owning channel group, and the bytes no group owns (fixed)."""
        by_group: dict[str, int] = {}
        fixed = 0
        for buffer in self.buffers:
            if buffer.first <= position <= buffer.last:
                owner = next((owners[name] for name in self._names(buffer) if name in owners), None)
                if owner is None:
                    fixed += buffer.size
                else:
                    by_group[owner] = by_group.get(owner, 0) + buffer.size
        return by_group, fixed

    def largest_fixed(self, position: int, owners: dict[str, str]) -> str:
        """The biggest buffer live at `position` that pruning cannot shrink, as `name (shape, bytes)`."""
        fixed = [buffer for buffer in self.buffers if buffer.first <= position <= buffer.last
                 and not any(name in owners for name in self._names(buffer))]
        if not fixed:
            return "none"
        largest = max(fixed, key=lambda buffer: buffer.size)
        if not largest.tensors:  # a kernel's work buffer (the plan declares the C backend's scratch)
            op = self.graph.ops[largest.first]
            return f"scratch of op {op.index} {op.opcode} = {largest.size} B"
        tensor = self.graph.tensor(largest.tensors[0])
        return f"{tensor.name} {'×'.join(map(str, tensor.shape))} = {largest.size} B"

    def _names(self, buffer: Buffer) -> list[str]:
        return [self.graph.tensor(index).name for index in buffer.tensors]


def live_memory(model: nn.Module, config) -> LiveMemory:
    """The int8 graph of `model` (without patch stages, so every op is a layer of the network) and its live
    bytes per op, without running a planner: where to prune; the real plan (patch stages included) decides."""
    graph, scratch = firmware_graph(model, config, patches="off")
    buffers = tuple(compute_lifetimes(graph, in_place=True, scratch=scratch))  # as the footprint plans it
    return LiveMemory(graph, buffers, tuple(live_bytes_per_op(buffers, len(graph.ops), ALIGNMENT)))


def channel_owners(model: nn.Module, config, groups: list[ChannelGroup]) -> dict[str, str]:
    """Activation tensor name (in torch_to_graph's graph) → name of the prunable group whose channels it holds.

    Measured by pruning each group alone; a tensor is assumed to hold one group's channels (the channel analysis
    freezes the groups of anything that mixes two, e.g. a concatenation).
    """
    def activation_bytes(network: nn.Module) -> dict[str, int]:
        graph = torch_to_graph(network, config)
        return {tensor.name: tensor.nbytes for tensor in graph.tensors if graph.is_activation(tensor.index)}

    unpruned = activation_bytes(model)
    owners: dict[str, str] = {}
    for group in groups:
        if not group.prunable:
            continue
        probe, _ = prune_channels(model, groups, {group.name: group.size // 2})  # which channels go: irrelevant
        for name, size in activation_bytes(probe).items():
            if size < unpruned.get(name, 0):
                owners.setdefault(name, group.name)
    return owners
