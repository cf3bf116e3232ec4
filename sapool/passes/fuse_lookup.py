"""Lookup regions: a connected run of int8 elementwise ops whose only non-constant source is one int8 tensor is an
int8 → int8 function, so the C backend runs it as one 256-entry table lookup (FUSED_LOOKUP).

Region: ops from ELEMENTWISE_OPCODES, each with one output of its source's shape, whose inputs are the source, an
output of an earlier op of the region, or a uniform constant (every element equal; a scalar or a broadcast of
one value, which cannot enlarge the output). Each element of the last op's output then depends only on the
source element at the same position, through the same function for every position. The region must leave by
exactly one tensor, the last op's output, and have at least two ops (a single LOGISTIC/TANH already is a table).
SAP's "nowin" exp(m) polynomial (DESIGN §3: six MUL + six ADD on the sigmoid output) is such a region.

The rewrite is structural (opcodes, shapes, readers; no quantisation), so the torch-side estimate graph
(models/footprint.py) fuses the same regions as the export. The table itself is made by the lowering
(ops/lookup_region.py), from the ops kept in the fused op's options, with exactly the kernels' arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapool.ir.graph import Graph, Op
from sapool.passes.graph_rewrite import is_constant, splice

FUSED_LOOKUP = "CUSTOM:SAPOOL_LOOKUP"
UNARY_OPCODES = frozenset({"LOGISTIC", "TANH", "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1"})
BINARY_OPCODES = frozenset({"ADD", "SUB", "MUL"})
ELEMENTWISE_OPCODES = UNARY_OPCODES | BINARY_OPCODES
MIN_REGION_OPS = 2


@dataclass(frozen=True)
class LookupOptions:
    """The ops the table stands for, in execution order (their tensors keep their quantisation in the graph)."""

    region: tuple[Op, ...]


def fuse_lookup_regions(graph: Graph) -> Graph:
    """`graph` with every lookup region replaced by one FUSED_LOOKUP op at the place of its last op."""
    source_of: dict[int, int] = {}  # output of a region op -> the region's source tensor
    members: dict[int, list[int]] = {}  # source tensor -> positions of its region's ops
    for position, op in enumerate(graph.ops):
        source = _region_source(graph, op, source_of)
        if source is not None:
            source_of[op.outputs[0]] = source
            members.setdefault(source, []).append(position)
    readers = graph.readers()
    fused: dict[int, Op] = {}
    dropped: set[int] = set()
    for source, positions in members.items():
        if len(positions) >= MIN_REGION_OPS and _leaves_only_by_last(graph, readers, positions):
            region = tuple(graph.ops[p] for p in positions)
            fused[positions[-1]] = _fused_op(source, region)
            dropped.update(positions[:-1])
    return splice(graph, fused, dropped)


def _region_source(graph: Graph, op: Op, source_of: dict[int, int]) -> int | None:
    """The source tensor the op extends a region of, or None when it cannot be part of one."""
    if op.opcode not in ELEMENTWISE_OPCODES or len(op.outputs) != 1:
        return None
    output = graph.tensor(op.outputs[0])
    if output.dtype != "int8":
        return None
    sources = set()
    for tensor in op.inputs:
        if tensor is None:
            continue
        if is_constant(graph, tensor):
            if not _uniform_constant(graph, tensor, output.shape):
                return None
            continue
        if graph.tensor(tensor).shape != output.shape or graph.tensor(tensor).dtype != "int8":
            return None
        sources.add(source_of.get(tensor, tensor))
    return sources.pop() if len(sources) == 1 else None


def _uniform_constant(graph: Graph, tensor: int, output_shape: tuple[int, ...]) -> bool:
    constant = graph.tensor(tensor)
    if constant.dtype != "int8":
        return False
    try:
        if np.broadcast_shapes(constant.shape, output_shape) != tuple(output_shape):
            return False
    except ValueError:
        return False
    values = np.frombuffer(constant.data, np.int8)
    return values.size > 0 and bool((values == values[0]).all())


def _leaves_only_by_last(graph: Graph, readers: dict[int, list[int]], positions: list[int]) -> bool:
    """No tensor of the region but the last op's output is read outside it (or is a graph output)."""
    inside = set(positions)
    for position in positions[:-1]:
        tensor = graph.ops[position].outputs[0]
        if tensor in graph.outputs or any(reader not in inside for reader in readers.get(tensor, [])):
            return False
    return True


def _fused_op(source: int, region: tuple[Op, ...]) -> Op:
    last = region[-1]
    return Op(last.index, FUSED_LOOKUP, (source,), last.outputs, LookupOptions(region),
              name=last.name or f"lookup {region[0].index}-{last.index}",
              origin=" + ".join(dict.fromkeys(filter(None, (op.origin for op in region)))))
