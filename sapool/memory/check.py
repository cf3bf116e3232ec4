"""An independent check of a memory plan, sharing no code with the planners or with lifetimes.py.

A plan is only trusted after this passes: a wrong offset would silently corrupt activations on the device.
`check_plan` checks, from the buffers' own lifetimes and sizes: every buffer has an offset, offsets are aligned
and not negative, buffers live at the same op never share a byte, everything lies inside the arena, the arena
size is exactly what the offsets need, and (when given) the arena fits the limit.

`check_buffers` checks the buffers themselves against the graph, since check_plan trusts their lifetimes and
their sharing: it recomputes every tensor's lifetime from the ops, requires it inside its buffer's, and requires
every two tensors of one buffer that share bytes while both live to be either the same bytes through view ops or
an in-place handover (the input's last op writes the output, at least in_place_shift bytes below it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sapool.errors import VerificationError
from sapool.ir.graph import VIEW_OPS, Graph
from sapool.memory.in_place import in_place_shift
from sapool.memory.lifetimes import Buffer, aligned

if TYPE_CHECKING:
    from sapool.memory.planners.plan import MemoryPlan


def check_plan(
    buffers: Sequence[Buffer], plan: MemoryPlan, alignment: int = 16, arena_limit: int | None = None
) -> None:
    """Raise VerificationError with the first problem found; return None when the plan is valid."""
    name = plan.planner
    ids = {b.id for b in buffers}
    missing = sorted(ids - plan.offsets.keys())
    if missing:
        raise VerificationError(f"plan {name!r} has no offset for buffer(s) {missing}")
    unknown = sorted(plan.offsets.keys() - ids)
    if unknown:
        raise VerificationError(f"plan {name!r} places unknown buffer(s) {unknown}")

    extents = {}
    for b in buffers:
        offset = plan.offsets[b.id]
        if offset < 0 or offset % alignment:
            raise VerificationError(f"plan {name!r}: buffer {b.id} at offset {offset} is not a non-negative "
                                    f"multiple of {alignment}")
        extents[b.id] = (offset, offset + aligned(b.size, alignment))

    needed = max((end for _, end in extents.values()), default=0)
    if plan.arena_bytes != needed:
        raise VerificationError(f"plan {name!r} claims an arena of {plan.arena_bytes} B but its buffers span "
                                f"{needed} B")
    if arena_limit is not None and needed > arena_limit:
        raise VerificationError(f"plan {name!r} needs {needed} B, more than the {arena_limit} B available")

    by_start = sorted(buffers, key=lambda b: extents[b.id])
    for n, low in enumerate(by_start):
        low_start, low_end = extents[low.id]
        for high in by_start[n + 1:]:
            high_start, high_end = extents[high.id]
            if high_start >= low_end:
                break
            if high_start == high_end or low_start == low_end:
                continue
            if low.first <= high.last and high.first <= low.last:
                raise VerificationError(
                    f"plan {name!r}: buffers {low.id} [{low_start}, {low_end}) and {high.id} "
                    f"[{high_start}, {high_end}) overlap in memory while both live at op "
                    f"{max(low.first, high.first)}"
                )


def check_buffers(graph: Graph, buffers: Sequence[Buffer]) -> None:
    """Raise VerificationError when a buffer's lifetime or sharing is not what the graph allows (module doc)."""
    first, last = _tensor_lifetimes(graph)
    for buffer in buffers:
        for tensor in buffer.tensors:
            offset = buffer.offset_of(tensor)
            if offset < 0 or offset + graph.tensor(tensor).nbytes > buffer.size:
                raise VerificationError(f"buffer {buffer.id}: tensor {tensor} at offset {offset} does not lie "
                                        f"inside the buffer's {buffer.size} B")
            if first[tensor] < buffer.first or last[tensor] > buffer.last:
                raise VerificationError(f"buffer {buffer.id} lives over ops [{buffer.first}, {buffer.last}] but "
                                        f"its tensor {tensor} over [{first[tensor]}, {last[tensor]}]")
        _check_sharing(graph, buffer, first, last)


def _tensor_lifetimes(graph: Graph) -> tuple[dict[int, int], dict[int, int]]:
    """Every activation's first op (its producer, or 0) and last op (its last reader, the end for outputs and
    variables), from the ops alone."""
    end = max(len(graph.ops) - 1, 0)
    producer: dict[int, int] = {}
    for position, op in enumerate(graph.ops):
        for tensor in op.outputs:
            producer.setdefault(tensor, position)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for position, op in enumerate(graph.ops):
        for tensor in (*op.inputs, *op.outputs):
            if graph.is_activation(tensor):
                last[tensor] = position
                first[tensor] = producer.get(tensor, 0)  # read but never written: filled before the run
    for tensor in graph.inputs:
        first[tensor] = 0
        last.setdefault(tensor, 0)
    for tensor in graph.outputs:
        first.setdefault(tensor, 0)
        last[tensor] = end
    for tensor in first:
        if graph.tensor(tensor).is_variable:
            first[tensor], last[tensor] = 0, end
    return first, last


def _check_sharing(graph: Graph, buffer: Buffer, first: dict[int, int], last: dict[int, int]) -> None:
    """Tensors of `buffer` joined by view ops at one offset are one value; values that share bytes while both
    live must be an in-place handover at the single op where one ends and the other starts."""
    value = {tensor: tensor for tensor in buffer.tensors}

    def root(tensor: int) -> int:
        while value[tensor] != tensor:
            tensor = value[tensor]
        return tensor

    for op in graph.ops:
        if op.opcode in VIEW_OPS and op.inputs and op.outputs and {op.inputs[0], op.outputs[0]} <= value.keys():
            source, view = op.inputs[0], op.outputs[0]
            if buffer.offset_of(source) == buffer.offset_of(view):
                value[root(view)] = root(source)
    members: dict[int, list[int]] = {}
    for tensor in buffer.tensors:
        members.setdefault(root(tensor), []).append(tensor)
    spans = [(min(first[t] for t in group), max(last[t] for t in group), group) for group in members.values()]
    spans.sort(key=lambda span: span[0])
    for n, (low_first, low_last, low) in enumerate(spans):
        for high_first, high_last, high in spans[n + 1:]:
            if high_first > low_last:
                break
            if _bytes_meet(graph, buffer, low, high) and not _hands_over(graph, buffer, low, low_last, high,
                                                                           high_first):
                raise VerificationError(f"buffer {buffer.id}: tensors {low} and {high} share bytes while both "
                                        f"live at op {high_first}, and no op there may write one over the other")


def _bytes_meet(graph: Graph, buffer: Buffer, one: list[int], other: list[int]) -> bool:
    def extent(group):
        return (min(buffer.offset_of(t) for t in group),
                max(buffer.offset_of(t) + graph.tensor(t).nbytes for t in group))
    (a_start, a_end), (b_start, b_end) = extent(one), extent(other)
    return a_start < b_end and b_start < a_end


def _hands_over(graph: Graph, buffer: Buffer, source: list[int], source_last: int, result: list[int],
                result_first: int) -> bool:
    """True when op `result_first` is the last use of `source`, writes a tensor of `result` and may write it
    over the source tensor it reads at their offsets in `buffer`."""
    if source_last != result_first:
        return False
    op = graph.ops[source_last]
    if len(op.outputs) != 1 or op.outputs[0] not in result:
        return False
    for tensor in set(op.inputs) & set(source):
        shift = in_place_shift(graph, op, tensor)
        if shift is not None and buffer.offset_of(tensor) - buffer.offset_of(op.outputs[0]) >= shift:
            return True
    return False
