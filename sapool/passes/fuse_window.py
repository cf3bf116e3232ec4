"""Window softmax pools: SOFTMAX over a window view of m, MUL by the same view of x, MEAN over the window, as one
op (FUSED_WINDOW_POOL) that never stores the probabilities, the product or the views.

SAP's window-normalised pooling (DESIGN §3, models/sap.py `WindowSoftmaxPool`) lowers to
    m ─TRANSPOSE/RESHAPE…→ (N, C, H/k, W/k, k²) ─SOFTMAX(-1)─┐
    x ─TRANSPOSE/RESHAPE…→ (N, C, H/k, W/k, k²) ─────────────MUL─→ MEAN(-1)
Each output element is one window: the softmax of its k² weights, times the k² values of x, averaged. The fused
kernel (reference/window_pool.c) gathers a window's weights from m into a k²-byte scratch row, softmaxes it there
with softmax.c, multiplies each probability by its x value with MUL's integer arithmetic and accumulates the int8
products into MEAN's int32 sum, requantised as mean.c does: bit-identical with the unfused ops (0 LSB).

Matching is structural (opcodes, shapes, single readers), so the torch-side estimate graph fuses as the export
does. A chain of movement ops is a gather: its composition maps each element of the view to an element of the
source. Where the graph carries the permutations (a real model), the fusion also requires both gathers to be
affine in (row dims…, window a, window b), the strided walk the kernel makes (`window_strides`); the estimate
graph, written from torch's own window view, carries none and is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapool.ir.graph import Graph, Op
from sapool.ir.shapes import merge_dims
from sapool.passes.graph_rewrite import only_reader, splice

FUSED_WINDOW_POOL = "CUSTOM:SAPOOL_WINDOW_POOL"
MOVEMENT_OPCODES = frozenset({"RESHAPE", "TRANSPOSE"})
ROW_DIMS = 4  # the kernel's loop nest over windows (after merging)


@dataclass(frozen=True)
class WindowPoolOptions:
    """The ops the fused op stands for: the movement chains from m and from x (in order), SOFTMAX, MUL, MEAN."""

    weights_chain: tuple[Op, ...]
    values_chain: tuple[Op, ...]
    softmax: Op
    mul: Op
    mean: Op


@dataclass(frozen=True)
class WindowStrides:
    """The kernel's walk: windows as ROW_DIMS nested loops (`rows`, with m's and x's element strides), each window
    as window[0]×window[1] elements (with their strides)."""

    rows: tuple[int, ...]
    weights_row_strides: tuple[int, ...]
    values_row_strides: tuple[int, ...]
    window: tuple[int, int]
    weights_window_strides: tuple[int, int]
    values_window_strides: tuple[int, int]


def fuse_window_pools(graph: Graph) -> Graph:
    """`graph` with every window softmax pool as one FUSED_WINDOW_POOL op at the place of its MEAN."""
    readers = graph.readers()
    producer = {t: position for position, op in enumerate(graph.ops) for t in op.outputs}
    fused: dict[int, Op] = {}
    dropped: set[int] = set()
    for position, op in enumerate(graph.ops):
        if op.opcode != "SOFTMAX":
            continue
        match = _match(graph, readers, producer, position)
        if match is not None:
            mean_at, options, sources, parts = match
            mean = graph.ops[mean_at]
            fused[mean_at] = Op(mean.index, FUSED_WINDOW_POOL, sources, mean.outputs, options,
                                name=mean.name or f"window pool {op.index}-{mean.index}",
                                origin=" + ".join(dict.fromkeys(filter(None, (op.origin, mean.origin)))))
            dropped.update(parts)
    return splice(graph, fused, dropped)


def _match(graph: Graph, readers, producer, softmax_at: int):
    softmax = graph.ops[softmax_at]
    probabilities = softmax.outputs[0]
    mul_at = only_reader(graph, readers, probabilities)
    if mul_at is None or graph.ops[mul_at].opcode != "MUL":
        return None
    mul = graph.ops[mul_at]
    if len(mul.inputs) != 2 or mul.inputs[0] == mul.inputs[1]:
        return None
    values_view = mul.inputs[1] if mul.inputs[0] == probabilities else mul.inputs[0]
    mean_at = only_reader(graph, readers, mul.outputs[0])
    if mean_at is None or graph.ops[mean_at].opcode != "MEAN":
        return None
    mean = graph.ops[mean_at]
    view_shape = graph.tensor(probabilities).shape
    if not (graph.tensor(values_view).shape == graph.tensor(mul.outputs[0]).shape == view_shape):
        return None
    if graph.tensor(mean.outputs[0]).num_elements * view_shape[-1] != graph.tensor(mul.outputs[0]).num_elements:
        return None
    if not _reduces_last_axis(graph, mean):
        return None
    weights_chain = _movement_chain(graph, readers, producer, softmax.inputs[0])
    values_chain = _movement_chain(graph, readers, producer, values_view)
    for chain, view in ((weights_chain, softmax.inputs[0]), (values_chain, values_view)):
        if chain and only_reader(graph, readers, view) is None:
            return None  # a view made for the fused ops only is never stored; one read elsewhere must be
    options = WindowPoolOptions(weights_chain, values_chain, softmax, mul, mean)
    sources = (_chain_source(weights_chain, softmax.inputs[0]), _chain_source(values_chain, values_view))
    if graph.tensor(sources[0]).is_constant or graph.tensor(sources[1]).is_constant:
        return None
    if _has_permutations(graph, options) and window_strides(graph, options) is None:
        return None
    parts = {producer[op.outputs[0]] for op in (*weights_chain, *values_chain)} | {softmax_at, mul_at}
    return mean_at, options, sources, parts


def _reduces_last_axis(graph: Graph, mean: Op) -> bool:
    """MEAN over the last axis only; an estimate graph's MEAN (no axes tensor) is judged by its sizes alone."""
    if len(mean.inputs) < 2 or mean.inputs[1] is None:
        return True
    axes_tensor = graph.tensor(mean.inputs[1])
    if not axes_tensor.is_constant:
        return False
    rank = len(graph.tensor(mean.inputs[0]).shape)
    axes = {int(a) % rank for a in np.frombuffer(axes_tensor.data, np.dtype(axes_tensor.dtype))}
    return axes == {rank - 1}


def _movement_chain(graph: Graph, readers, producer, view: int) -> tuple[Op, ...]:
    """The RESHAPE/TRANSPOSE ops that make `view`, source first; each tensor between them read only by the next."""
    chain: list[Op] = []
    tensor = view
    while tensor in producer and graph.ops[producer[tensor]].opcode in MOVEMENT_OPCODES:
        op = graph.ops[producer[tensor]]
        chain.insert(0, op)
        tensor = op.inputs[0]
        if only_reader(graph, readers, tensor) is None or graph.tensor(tensor).is_constant:
            break
    return tuple(chain)


def _chain_source(chain: tuple[Op, ...], view: int) -> int:
    return chain[0].inputs[0] if chain else view


def _has_permutations(graph: Graph, options: WindowPoolOptions) -> bool:
    return all(len(op.inputs) > 1 and op.inputs[1] is not None and graph.tensor(op.inputs[1]).is_constant
               for op in (*options.weights_chain, *options.values_chain) if op.opcode == "TRANSPOSE")


def gather(graph: Graph, chain: tuple[Op, ...], source: int, view_shape: tuple[int, ...]) -> np.ndarray:
    """For each element of the view (shape `view_shape`), the index of the source element it is a copy of."""
    indices = np.arange(graph.tensor(source).num_elements).reshape(graph.tensor(source).shape)
    for op in chain:
        if op.opcode == "TRANSPOSE":
            perm_tensor = graph.tensor(op.inputs[1])
            indices = indices.transpose([int(a) for a in np.frombuffer(perm_tensor.data, perm_tensor.dtype)])
        indices = indices.reshape(graph.tensor(op.outputs[0]).shape)
    return indices.reshape(view_shape)


def window_strides(graph: Graph, options: WindowPoolOptions) -> WindowStrides | None:
    """The strided walk both gathers make, or None when one is not affine in (rows…, window a, window b)."""
    view_shape = graph.tensor(options.softmax.outputs[0]).shape
    gathers = [gather(graph, options.weights_chain, _source(options, 0), view_shape),
               gather(graph, options.values_chain, _source(options, 1), view_shape)]
    size = view_shape[-1]
    for first in (d for d in range(1, size + 1) if size % d == 0):
        shape = (*view_shape[:-1], first, size // first)
        strides = [_affine_strides(g.reshape(shape)) for g in gathers]
        if None in strides:
            continue
        rows, (weights_rows, values_rows) = merge_dims(shape[:-2], *(s[:-2] for s in strides))
        if len(rows) > ROW_DIMS:
            return None
        pad = ROW_DIMS - len(rows)
        return WindowStrides((1,) * pad + tuple(rows), (0,) * pad + tuple(weights_rows),
                             (0,) * pad + tuple(values_rows), shape[-2:], tuple(strides[0][-2:]),
                             tuple(strides[1][-2:]))
    return None


def _source(options: WindowPoolOptions, which: int) -> int:
    chain = options.weights_chain if which == 0 else options.values_chain
    view = options.softmax.inputs[0] if which == 0 else next(
        t for t in options.mul.inputs if t != options.softmax.outputs[0])
    return _chain_source(chain, view)


def _affine_strides(indices: np.ndarray) -> list[int] | None:
    """Per-axis strides s with indices[i] = Σ i_d·s_d (origin 0), or None when `indices` is not such a map."""
    if indices.flat[0] != 0:
        return None
    strides = [int(indices[(0,) * d + (1,) + (0,) * (indices.ndim - d - 1)]) if size > 1 else 0
               for d, size in enumerate(indices.shape)]
    expected = sum(np.arange(size).reshape([-1 if a == d else 1 for a in range(indices.ndim)]) * stride
                   for d, (size, stride) in enumerate(zip(indices.shape, strides)))
    return strides if np.array_equal(indices, expected) else None
