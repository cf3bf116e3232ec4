"""RESIZE_NEAREST_NEIGHBOR → reference/resize_nearest.c.

TFLite's GetNearestNeighbor picks each output row's (column's) source in float32: scale = in/out (or
(in−1)/(out−1) with align_corners), source = floor((i + offset)·scale), or round half away with align_corners,
offset 0.5 with half_pixel_centers, clamped to [0, in−1]. The maps depend only on sizes and options, so they
are computed here with the same float32 operations and stored as two small int32 arrays.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import round_half_away
from sapool.backends.c.tensors import nhwc, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("RESIZE_NEAREST_NEIGHBOR",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    batches, _, _, depth = nhwc(source)
    if nhwc(result)[0] != batches or result.shape[3] != depth:
        raise UnsupportedError(f"output shape {list(result.shape)} does not match input {list(source.shape)}")
    if (scale(source), zero_point(source)) != (scale(result), zero_point(result)):
        raise UnsupportedError("input and output quantisation differ")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    batches, in_h, in_w, depth = graph.tensor(op.inputs[0]).shape
    _, out_h, out_w, _ = graph.tensor(op.outputs[0]).shape
    align, half = op.options.align_corners, op.options.half_pixel_centers
    prefix = f"sapool_l{op.index}"
    rows = ctx.array(f"{prefix}_rows", "int32_t", nearest_sources(in_h, out_h, align, half))
    cols = ctx.array(f"{prefix}_cols", "int32_t", nearest_sources(in_w, out_w, align, half))
    params = ctx.struct(f"{prefix}_params", "sapool_resize_params", {
        "batches": batches, "in_h": in_h, "in_w": in_w, "depth": depth, "out_h": out_h, "out_w": out_w})
    call = (f"sapool_resize_nearest_s8({params}, {rows}, {cols}, {ctx.tensor_pointer(op.inputs[0])}, "
            f"{ctx.tensor_pointer(op.outputs[0])});")
    return LoweredOp((call,), ("reference/resize_nearest.c",))


def nearest_sources(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> list[int]:
    """TFLite's GetNearestNeighbor for every output index along one axis."""
    f32 = np.float32
    if align_corners and out_size > 1:
        step = f32(in_size - 1) / f32(out_size - 1)
    else:
        step = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    sources = []
    for i in range(out_size):
        position = float((f32(i) + offset) * step)
        source = min(round_half_away(position) if align_corners else math.floor(position), in_size - 1)
        sources.append(max(0, source) if half_pixel_centers else source)
    return sources
