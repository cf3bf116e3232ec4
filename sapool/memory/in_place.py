"""In-place execution: which ops may write their output over an input, and how far below it.

An op runs *in place* when its output shares arena bytes with one of its inputs that dies at that op (no later
op reads it). Both then live in one buffer: the input `shift` bytes above the output's start. A kernel honours
that when, each time it writes output bytes, no input byte it (or a later step) still has to read lies below
the end of what it wrote. Two kinds of op do, in every sapool C kernel (portable and optimised alike):

- *elementwise* (shift 0, exact sharing): output element i depends on input element i at the same position and
  is written after that element is read: ADD, SUB, MUL against an input of the output's own shape (the other
  input may broadcast), LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, int8 QUANTIZE, the C backend's fused
  lookup regions (one table lookup per element); SOFTMAX too, whose kernel
  reads a whole row (max, then the sum of exponentials) before writing any of it, then writes y[j] from x[j].
- *row-streaming* (shift > 0): CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and MAX_POOL_2D on one NHWC image
  compute output rows in increasing order and, for output row y, read input rows from `stride·y − pad_top` on.
  The kernels may work inside a row in any order, and a 1×1 CONV_2D may run one output pixel ahead into the
  next row (the arm pointwise kernel takes pixels in pairs across rows). With the output placed `shift` bytes
  below the input, writing row y is safe when the end of what it may write, (y+1)·out_row_bytes (+ one output
  pixel for a 1×1 conv), is at most shift + first_needed_row(y)·in_row_bytes, so `shift` is the maximum over y
  of the difference. For a same-size 3×3 stride-1 layer that is two input rows (pad_top + 1): the buffer grows
  by that instead of holding input and output apart.

View ops (RESHAPE, SQUEEZE, EXPAND_DIMS) already share their input's bytes (lifetimes.py); they are not
repeated here. Shifts are rounded up to IN_PLACE_ALIGNMENT, so an in-place output stays as aligned as the
buffers around it; a larger shift is always as safe as the minimum.

Graph inputs and state (variable tensors) are never overwritten: a caller may fill the input once and run
several inferences, and state must survive the run. The choice of which ops actually run in place (only where it
lowers memory) is lifetimes.py's; `check.check_buffers` verifies the result against `in_place_shift` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sapool.ir.graph import Graph, Op
from sapool.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from sapool.ir.windows import window_axis

IN_PLACE_ALIGNMENT = 16

ELEMENTWISE_OPS = frozenset({"ADD", "SUB", "MUL", "LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1",
                             "QUANTIZE", "SOFTMAX",
                             "CUSTOM:SAPOOL_LOOKUP"})  # the C backend's fused lookup region (lookup.c)
ROW_STREAMING_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"})


def in_place_shift(graph: Graph, op: Op, input_tensor: int) -> int | None:
    """Bytes the overwritten `input_tensor` must sit above `op`'s output for `op` to run in place, or None when
    `op` cannot write over that input at all."""
    if len(op.outputs) != 1 or input_tensor not in op.inputs:
        return None
    output = graph.tensor(op.outputs[0])
    source = graph.tensor(input_tensor)
    if source.dtype != output.dtype:
        return None
    if op.opcode in ELEMENTWISE_OPS:
        same_layout = tuple(source.shape) == tuple(output.shape) and source.nbytes == output.nbytes
        return 0 if same_layout else None
    if op.opcode in ROW_STREAMING_OPS and input_tensor == op.inputs[0]:
        return _row_streaming_shift(graph, op)
    return None


def _row_streaming_shift(graph: Graph, op: Op) -> int | None:
    source, output = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if len(source.shape) != 4 or len(output.shape) != 4 or source.shape[0] != 1 or output.shape[0] != 1:
        return None
    in_h, out_h = source.shape[1], output.shape[1]
    options = op.options
    if not isinstance(options, (Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions)):
        return None  # geometry unknown (e.g. a graph traced from torch for an estimate): never in place
    pad_top = window_axis(graph, op, 0).pad_before
    out_row = output.nbytes // out_h
    in_row = source.nbytes // in_h
    pointwise = op.opcode == "CONV_2D" and tuple(graph.tensor(op.inputs[1]).shape[1:3]) == (1, 1)
    ahead = output.shape[3] if pointwise else 0  # pixels paired across rows
    shift = max(min((y + 1) * out_row + ahead, output.nbytes) - min(max(0, y * options.stride_h - pad_top), in_h)
                * in_row for y in range(out_h))
    return -(-shift // IN_PLACE_ALIGNMENT) * IN_PLACE_ALIGNMENT


@dataclass
class TensorGroup:
    """Tensors sharing one buffer while lifetimes are worked out: tensor → byte offset in the buffer."""

    offsets: dict[int, int]
    first: int
    last: int
    kind: str
    in_place_ops: list[int] = field(default_factory=list)

    def size(self, graph: Graph) -> int:
        return max(offset + graph.tensor(i).nbytes for i, offset in self.offsets.items())


def merge_in_place(graph: Graph, groups: list[TensorGroup]) -> list[TensorGroup]:
    """`groups` (view-aliased tensors, offsets 0) with the in-place merges that lower memory made.

    Candidates: each op's first input that `in_place_shift` allows, that dies at the op, and that is no graph
    input or state. Exact (shift 0) merges never cost anything and are all made. A shifted merge keeps both
    tensors' bytes for both lifetimes, so it is kept only where the bytes it saves at its op exceed the extra it
    carries on either side (a stride-2 layer's small output inside its large input's buffer would not), and
    then by chains: consecutive in-place ops (a depthwise/pointwise stack) only pay together, since each single
    merge lifts its neighbour's peak by its shift. A chain is kept when it lowers the busiest op's live bytes
    (or keeps them and lowers the total), given the chains kept before it.
    """
    group_of = {tensor: group for group in groups for tensor in group.offsets}
    exact, shifted = [], []
    for position, op in enumerate(graph.ops):
        pair = _candidate(graph, group_of, position, op)
        if pair is not None:
            (exact if pair[2] == 0 else shifted).append(pair)
    chosen = list(exact)
    for chain in _chains(graph, group_of, exact, shifted):
        best = _cost(graph, _apply(graph, groups, chosen))
        if _cost(graph, _apply(graph, groups, chosen + chain)) < best:
            chosen += chain
    return _apply(graph, groups, chosen)


Pair = tuple[int, int, int]  # (op position, overwritten input tensor, shift)


def _candidate(graph: Graph, group_of: dict[int, TensorGroup], position: int, op: Op) -> Pair | None:
    if len(op.outputs) != 1 or op.outputs[0] not in group_of:
        return None
    target = group_of[op.outputs[0]]
    if target.first != position or target.kind in ("input", "state"):
        return None
    for tensor in dict.fromkeys(i for i in op.inputs if i in group_of):
        source = group_of[tensor]
        shift = in_place_shift(graph, op, tensor)
        if shift is None or source is target or source.last != position or source.kind in ("input", "state"):
            continue
        if any(other != tensor and group_of.get(other) is source for other in op.inputs):
            continue  # another input reads the same bytes through a view, at its own indices
        if shift:
            source_size, target_size = source.size(graph), target.size(graph)
            merged = max(target_size, shift + source_size)
            saved = source_size + target_size - merged
            if max(merged - source_size, merged - target_size) >= saved:
                continue
        return position, tensor, shift
    return None


def _chains(graph: Graph, group_of: dict[int, TensorGroup], exact: list[Pair], shifted: list[Pair]):
    """The shifted pairs split by the buffer they would build (joined through exact merges too), in op order."""
    parent: dict[int, int] = {}

    def root(key: int) -> int:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for position, tensor, _ in exact + shifted:
        parent[root(id(group_of[graph.ops[position].outputs[0]]))] = root(id(group_of[tensor]))
    chains: dict[int, list[Pair]] = {}
    for pair in shifted:
        chains.setdefault(root(id(group_of[pair[1]])), []).append(pair)
    return sorted(chains.values())


def _apply(graph: Graph, groups: list[TensorGroup], pairs: list[Pair]) -> list[TensorGroup]:
    """New groups with every pair's output merged over its input, in op order."""
    group_of = {tensor: group for group in groups for tensor in group.offsets}
    for position, tensor, shift in sorted(pairs):
        output = graph.ops[position].outputs[0]
        source, target = group_of[tensor], group_of[output]
        moved = target.offsets[output] + shift - source.offsets[tensor]
        offsets = {**target.offsets, **{i: offset + moved for i, offset in source.offsets.items()}}
        low = min(offsets.values())
        kind = "output" if "output" in (source.kind, target.kind) else "activation"
        merged = TensorGroup({i: offset - low for i, offset in offsets.items()}, source.first, target.last,
                             kind, sorted([*source.in_place_ops, *target.in_place_ops, position]))
        group_of.update(dict.fromkeys(merged.offsets, merged))
    return list({id(group): group for group in group_of.values()}.values())


def _cost(graph: Graph, groups: list[TensorGroup]) -> tuple[int, int]:
    """(busiest op's live bytes, sum of live bytes over all ops), 16-byte aligned like the planners' default."""
    change = [0] * (max((g.last for g in groups), default=0) + 2)
    for group in groups:
        size = -(-group.size(graph) // IN_PLACE_ALIGNMENT) * IN_PLACE_ALIGNMENT
        change[group.first] += size
        change[group.last + 1] -= size
    live = peak = total = 0
    for delta in change:
        live += delta
        peak = max(peak, live)
        total += live
    return peak, total
