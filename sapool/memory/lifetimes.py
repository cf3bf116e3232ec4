"""Activation buffers and their lifetimes: the input every memory planner works on.

A *buffer* is one block of arena memory. Usually it holds one activation tensor; the output of a view op
(graph.VIEW_OPS: RESHAPE, SQUEEZE, EXPAND_DIMS) is the same bytes as its input, so it joins its input's buffer
instead of getting a copy. Time is measured in op indices (execution order). A buffer is live on the closed
interval [first, last], and during an op its inputs and outputs are all live, so by default an op never writes
over its own input (TFLite-Micro's rule: no in-place kernels).

With `in_place=True` an op that can write over an input dying at it (the rule and its byte shift are in
in_place.py) puts its output into that input's buffer, at `shift` bytes below it: one buffer, two tensors at
their own offsets (`Buffer.offsets`), the op listed in `Buffer.in_place_ops`. It is done only where it lowers
memory: op by op in execution order, an in-place merge is kept when it lowers the live bytes at the op and
raises no op's live bytes above the busiest op of the merged lifetime (a stride-2 layer's small output kept
inside its large input's buffer for the rest of its life would otherwise cost more than it saves).

Lifetime rules, per tensor, before grouping into buffers:
- produced by op p: first = p; a tensor nobody reads (and that is not a model output) therefore lives only at p;
- read by ops: last = the last reader;
- model input, or read but never produced (someone must fill it before the run): first = 0;
- model output: last = the last op;
- variable tensor (state kept across runs): the whole run, [0, last op].
A buffer's interval is the union (min first, max last) of its tensors' intervals; its size is the largest of its
tensors' byte sizes.

Kernel scratch (an im2col buffer, a row buffer) is memory too: `compute_lifetimes(graph, scratch={op: bytes})`
adds one buffer per entry, holding no tensor and live only during that op, so the planner places it and the lower
bound counts it. Every buffer has a kind, which code generators and reports need: "input" (holds a graph
input), "output" (holds a graph output and no input), "state" (a variable tensor kept across runs), "scratch",
or "activation" (everything else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sapool.ir.graph import VIEW_OPS, Graph
from sapool.memory.in_place import TensorGroup as _Group
from sapool.memory.in_place import merge_in_place


@dataclass(frozen=True)
class Buffer:
    id: int  # position in the list returned by compute_lifetimes
    tensors: tuple[int, ...]  # graph tensor indices stored here (a view op's output shares its input's buffer)
    size: int  # bytes, unaligned (max nbytes of its tensors)
    first: int  # first op index at which it holds data (0 for model inputs)
    last: int  # last op index that reads it (len(ops) - 1 for model outputs)
    kind: str = "activation"  # "activation" | "input" | "output" | "state" | "scratch"; see the module doc
    offsets: tuple[int, ...] = ()  # byte offset of each of `tensors` within the buffer; () means all at 0
    in_place_ops: tuple[int, ...] = ()  # ops that write their output over an input held in this buffer

    def offset_of(self, tensor: int) -> int:
        """Where `tensor` starts within this buffer (an in-place output sits below the input it overwrites)."""
        return self.offsets[self.tensors.index(tensor)] if self.offsets else 0

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


def aligned(size: int, alignment: int = 16) -> int:
    """`size` rounded up to a multiple of `alignment` (what a buffer really occupies in the arena)."""
    return -(-size // alignment) * alignment


def compute_lifetimes(
    graph: Graph, *, alias_views: bool = True, in_place: bool = False, scratch: Mapping[int, int] | None = None
) -> list[Buffer]:
    """One Buffer per block of activation memory, ordered by the lowest tensor index it holds, then one scratch
    buffer per `scratch` entry (op index → bytes, in op order).

    Constants are excluded (they live in flash). With `alias_views=False` every view op copies, as TFLite-Micro's
    own planner assumes; that setting exists to compare against TFLM's figures. `in_place=True` lets ops write
    over a dying input (module doc); only kernels that honour in_place.py's rule may run such a plan.
    """
    last_op = max(len(graph.ops) - 1, 0)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    produced: set[int] = set()
    for position, op in enumerate(graph.ops):
        for index in op.outputs:
            if graph.is_activation(index) and index not in produced:
                produced.add(index)
                first[index] = position
                last[index] = max(last.get(index, position), position)
        for index in op.inputs:
            if graph.is_activation(index):
                last[index] = max(last.get(index, position), position)
    for index in list(last):
        if index not in produced:
            first[index] = 0
    for index in graph.inputs:
        if graph.is_activation(index):
            first[index] = 0
            last.setdefault(index, 0)
    for index in graph.outputs:
        if graph.is_activation(index):
            first.setdefault(index, 0)
            last[index] = last_op
    for index in first:
        if graph.tensor(index).is_variable:
            first[index], last[index] = 0, last_op

    owner = _view_owners(graph) if alias_views else {}
    views: dict[int, list[int]] = {}
    for index in sorted(first):
        views.setdefault(_root(owner, index), []).append(index)
    groups = [_Group({tensor: 0 for tensor in tensors}, min(first[i] for i in tensors),
                     max(last[i] for i in tensors), _kind(graph, tensors)) for tensors in views.values()]
    if in_place:
        groups = merge_in_place(graph, groups)
    groups.sort(key=lambda group: min(group.offsets))
    buffers = [
        Buffer(
            id=position,
            tensors=tuple(sorted(group.offsets)),
            size=max(offset + graph.tensor(i).nbytes for i, offset in group.offsets.items()),
            first=group.first,
            last=group.last,
            kind=group.kind,
            offsets=_offsets(group.offsets),
            in_place_ops=tuple(group.in_place_ops),
        )
        for position, group in enumerate(groups)
    ]
    return buffers + _scratch_buffers(scratch or {}, len(graph.ops), first_id=len(buffers))


def _offsets(offsets: dict[int, int]) -> tuple[int, ...]:
    """Buffer.offsets for a group: () when every tensor starts at the buffer's start."""
    values = tuple(offsets[i] for i in sorted(offsets))
    return values if any(values) else ()


def _kind(graph: Graph, tensors: list[int]) -> str:
    if any(i in graph.inputs for i in tensors):
        return "input"
    if any(i in graph.outputs for i in tensors):
        return "output"
    if any(graph.tensor(i).is_variable for i in tensors):
        return "state"
    return "activation"


def _scratch_buffers(scratch: Mapping[int, int], num_ops: int, first_id: int) -> list[Buffer]:
    buffers = []
    for op_index, size in sorted(scratch.items()):
        if not 0 <= op_index < num_ops or size < 0:
            raise ValueError(f"scratch request {size} B for op {op_index} is outside the graph's {num_ops} ops")
        if size:
            buffers.append(Buffer(first_id + len(buffers), (), size, op_index, op_index, kind="scratch"))
    return buffers



def _view_owners(graph: Graph) -> dict[int, int]:
    """Map each view op's output to the tensor whose bytes it reinterprets.

    Only same-size activation pairs alias: a view of a constant stays in flash, so its output needs its own arena
    copy, and a size mismatch means the op is not a pure view.
    """
    owner: dict[int, int] = {}
    for op in graph.ops:
        if op.opcode not in VIEW_OPS or not op.inputs or not op.outputs:
            continue
        source, view = op.inputs[0], op.outputs[0]
        if (
            graph.is_activation(source)
            and graph.is_activation(view)
            and source != view
            and graph.tensor(source).nbytes == graph.tensor(view).nbytes
        ):
            owner[view] = source
    return owner


def _root(owner: dict[int, int], index: int) -> int:
    seen = {index}
    while index in owner and owner[index] not in seen:
        index = owner[index]
        seen.add(index)
    return index


def live_bytes_per_op(buffers: Sequence[Buffer], num_ops: int, alignment: int = 16) -> list[int]:
    """Aligned bytes that must be resident during each op: the memory any plan needs at that op."""
    steps = max([num_ops, *(b.last + 1 for b in buffers)])
    change = [0] * (steps + 1)  # a difference array: linear in buffers + ops, whatever the lifetimes' lengths
    for buffer in buffers:
        if buffer.last >= buffer.first:
            change[buffer.first] += aligned(buffer.size, alignment)
            change[buffer.last + 1] -= aligned(buffer.size, alignment)
    live, running = [], 0
    for delta in change[:steps]:
        running += delta
        live.append(running)
    return live


def lower_bound(buffers: Sequence[Buffer], num_ops: int, alignment: int = 16) -> int:
    """The lifetime lower bound LB: no plan's arena can be smaller than the busiest op's live bytes."""
    return max(live_bytes_per_op(buffers, num_ops, alignment), default=0)
