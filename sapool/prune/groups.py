"""Which channels must be pruned together: coupled channel groups found by tracing the network with torch.fx.

Every tensor's channel dimension (dim 1) gets a slot; slots that must keep the same channels are merged:
- a conv / linear starts a new slot for its output and joins its input slot as a consumer;
- a depthwise conv's output slot *is* its input slot (one filter per channel: removing an input channel removes
  that output channel);
- BatchNorm, activations, pooling, dropout and SAP layers (`leaf_types`, treated as one channel-wise block whose
  internal patch-embedding input and 1×1 output conv follow the block's channels) keep their input's slot;
- an elementwise add / mul / … of two tensors merges their slots (residual ties: every producer of a sum loses
  the same channels);
- a flatten of an N×C×1×1 tensor keeps the slot, so a classifier's inputs follow the pooled channels.
Anything else (model inputs and outputs, reshapes that mix channels, concatenation, unknown ops) freezes the
slots it touches: those channels are never pruned. The rules see only what fx sees, so a network whose channel
coupling hides in Python control flow needs its block added to `leaf_types` with a known rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sapool.models.footprint import trace

OUT, IN, DEPTHWISE, NORM, BLOCK = "out", "in", "depthwise", "norm", "block"
PRODUCER_ROLES = (OUT, DEPTHWISE)

_KEEPS_CHANNELS_MODULES = frozenset({
    "ReLU", "ReLU6", "Sigmoid", "Hardswish", "Hardsigmoid", "Tanh", "SiLU", "GELU", "LeakyReLU", "MaxPool2d",
    "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout", "Dropout2d", "Identity", "Upsample",
})
_KEEPS_CHANNELS_FUNCTIONS = frozenset({
    "relu", "relu6", "hardtanh", "sigmoid", "hardswish", "tanh", "exp", "neg", "abs", "gelu", "silu", "dropout",
    "contiguous", "clone", "to", "float", "detach", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "interpolate", "clamp",
})
_ELEMENTWISE = frozenset({"add", "iadd", "sub", "isub", "mul", "imul", "truediv", "div"})
_REDUCTIONS = frozenset({"mean", "sum", "amax"})
_RESHAPES = frozenset({"flatten", "view", "reshape", "squeeze", "Flatten"})


@dataclass
class ChannelGroup:
    """Channels that are removed together. `members` are (module name, role) pairs; `size` is the channel count."""

    size: int
    members: list[tuple[str, str]] = field(default_factory=list)
    frozen_by: list[str] = field(default_factory=list)  # why these channels cannot be pruned; empty if they can

    @property
    def name(self) -> str:
        """The module producing the channels first in network order: how reports and fitting name the group."""
        return next((name for name, role in self.members if role in PRODUCER_ROLES), "")

    @property
    def prunable(self) -> bool:
        return not self.frozen_by and self.size > 1 and any(role in PRODUCER_ROLES for _, role in self.members)

    def modules(self, *roles: str) -> list[str]:
        return [name for name, role in self.members if role in roles]


def channel_groups(model, input_shape: tuple[int, ...], leaf_types: tuple[type, ...] = ()) -> list[ChannelGroup]:
    """The coupled channel groups of `model`, in order of first appearance."""
    builder = _Builder(trace(model, input_shape, leaf_types), leaf_types)
    return builder.groups()


class _Builder:
    def __init__(self, module, leaf_types: tuple[type, ...]):
        self.graph_module = module
        self.leaf_types = leaf_types
        self.modules = dict(module.named_modules())
        self.parent: list[int] = []
        self.sizes: list[int] = []
        self.members: list[list[tuple[str, str]]] = []
        self.frozen: list[list[str]] = []
        self.slot_of: dict = {}  # fx node -> slot

    def groups(self) -> list[ChannelGroup]:
        for node in self.graph_module.graph.nodes:
            self._visit(node)
        by_root: dict[int, ChannelGroup] = {}
        for slot in range(len(self.parent)):
            root = self._find(slot)
            group = by_root.setdefault(root, ChannelGroup(self.sizes[root]))
            group.members.extend(self.members[slot])
            group.frozen_by.extend(self.frozen[slot])
        return list(by_root.values())

    # --- union-find over channel slots
    def _new_slot(self, node, frozen_by: str | None = None) -> int:
        slot = len(self.parent)
        self.parent.append(slot)
        self.sizes.append(_channels(node))
        self.members.append([])
        self.frozen.append([frozen_by] if frozen_by else [])
        self.slot_of[node] = slot
        return slot

    def _find(self, slot: int) -> int:
        while self.parent[slot] != slot:
            self.parent[slot] = self.parent[self.parent[slot]]
            slot = self.parent[slot]
        return slot

    def _union(self, a: int, b: int) -> int:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a
        return root_a

    def _freeze(self, node, reason: str) -> None:
        if node in self.slot_of:
            self.frozen[self._find(self.slot_of[node])].append(reason)

    def _same(self, node, source) -> None:
        self.slot_of[node] = self.slot_of[source]

    # --- per-node rules
    def _visit(self, node) -> None:
        if node.op == "placeholder":
            self._new_slot(node, "model input")
        elif node.op == "get_attr":
            self._new_slot(node, f"parameter {node.target} used directly")
        elif node.op == "output":
            for arg in _tensor_args(node, self.slot_of):
                self._freeze(arg, "model output")
        elif _has_channels(node):
            self._call(node)
        elif node.meta.get("tensor_meta") is not None:  # a tensor without a channel axis (or several tensors)
            for arg in _tensor_args(node, self.slot_of):
                self._freeze(arg, f"{node.name} collapses the channel axis")
        # anything else (x.shape, x.size(0)) reads sizes, not channel values

    def _call(self, node) -> None:
        inputs = _tensor_args(node, self.slot_of)
        if node.op == "call_module":
            return self._module(node, inputs)
        name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "").rstrip("_")
        first = inputs[0] if inputs else None
        if name in _KEEPS_CHANNELS_FUNCTIONS and first is not None and _channels(first) == _channels(node):
            return self._same(node, first)
        if name in _ELEMENTWISE:
            return self._elementwise(node, inputs)
        if name in _REDUCTIONS and first is not None and 1 not in _reduced_dims(node, first):
            return self._same(node, first)
        if name in _RESHAPES and first is not None and _keeps_channel_axis(first, node):
            return self._same(node, first)
        self._opaque(node, inputs, f"{node.name} ({name}) mixes or reorders channels")

    def _module(self, node, inputs) -> None:
        module = self.modules[node.target]
        kind = type(module).__name__
        source = inputs[0] if inputs else None
        if source is None:
            return self._opaque(node, inputs, f"{node.target} has no tensor input")
        if isinstance(module, self.leaf_types) and _channels(source) == _channels(node):
            self._member(source, node.target, BLOCK)
            return self._same(node, source)
        if kind == "Conv2d":
            return self._conv(node, source, module)
        if kind == "Linear" and len(_shape(source)) == 2:
            self._member(source, node.target, IN)
            self._new_slot(node)
            return self._member(node, node.target, OUT)
        if kind in ("BatchNorm2d", "BatchNorm1d"):
            self._member(source, node.target, NORM)
            return self._same(node, source)
        if kind in _KEEPS_CHANNELS_MODULES and _channels(source) == _channels(node):
            return self._same(node, source)
        if kind in _RESHAPES and _keeps_channel_axis(source, node):
            return self._same(node, source)
        self._opaque(node, inputs, f"{node.target} ({kind}) is not understood by the channel analysis")

    def _conv(self, node, source, conv) -> None:
        if conv.groups == 1:
            self._member(source, node.target, IN)
            self._new_slot(node)
            return self._member(node, node.target, OUT)
        if conv.groups == conv.in_channels == conv.out_channels:
            self._member(source, node.target, DEPTHWISE)
            return self._same(node, source)
        self._opaque(node, [source], f"{node.target} is a grouped conv (groups={conv.groups})")

    def _elementwise(self, node, inputs) -> None:
        """Operands with the output's channels are tied; broadcast operands (1 channel) are not."""
        rank, channels = len(_shape(node)), _channels(node)
        tied = [arg for arg in inputs if len(_shape(arg)) == rank and _channels(arg) == channels]
        odd = [arg for arg in inputs if arg not in tied and math.prod(_shape(arg)[1:2]) != 1]
        if not tied or odd:
            return self._opaque(node, inputs, f"{node.name} broadcasts across channels")
        self._same(node, tied[0])
        for other in tied[1:]:
            self.slot_of[node] = self._union(self.slot_of[node], self.slot_of[other])

    def _opaque(self, node, inputs, reason: str) -> None:
        for arg in inputs:
            self._freeze(arg, reason)
        self._new_slot(node, reason)

    def _member(self, node, module_name: str, role: str) -> None:
        self.members[self._find(self.slot_of[node])].append((module_name, role))


def _tensor_args(node, slot_of: dict) -> list:
    found = []

    def visit(value):
        if isinstance(value, (tuple, list)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif value in slot_of and value not in found:
            found.append(value)

    visit((node.args, node.kwargs))
    return found


def _has_channels(node) -> bool:
    meta = node.meta.get("tensor_meta")
    return meta is not None and hasattr(meta, "shape") and len(meta.shape) >= 2


def _shape(node) -> tuple[int, ...]:
    return tuple(node.meta["tensor_meta"].shape)


def _channels(node) -> int:
    shape = _shape(node)
    return shape[1] if len(shape) >= 2 else 1


def _keeps_channel_axis(source, node) -> bool:
    """A reshape that leaves dim 1 meaning the same channels: N×C×1×1 → N×C, or N×C×H×W → N×C×(H·W)."""
    before, after = _shape(source), _shape(node)
    return len(before) >= 2 and len(after) >= 2 and before[:2] == after[:2] and (
        math.prod(before[2:]) == math.prod(after[2:]))


def _reduced_dims(node, source) -> set[int]:
    dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    rank = len(_shape(source))
    if dims is None:
        return set(range(rank))
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return {d % rank for d in dims if isinstance(d, int)} or set(range(rank))
