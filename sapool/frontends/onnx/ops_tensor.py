"""ONNX data-movement ops → torch: Reshape, Flatten, Transpose, Concat, Squeeze, Unsqueeze, Slice, Split, Gather, Pad,
Resize/Upsample (nearest, integer factors), Identity, Dropout. Shapes and axes must be constant (after folding)."""

from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F

from sapool.frontends.onnx.builder import Const, FxBuilder, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import constant, constant_ints, normalize_axis, torch_pad_order

PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
# (coordinate_transformation_mode, nearest_mode) pairs that pick input pixel floor(x / s) for an integer scale s,
# i.e. what torch's mode="nearest" does.
NEAREST_LIKE_TORCH = {("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"),
                      ("half_pixel", "round_prefer_ceil"), ("pytorch_half_pixel", "round_prefer_floor"),
                      ("pytorch_half_pixel", "round_prefer_ceil")}


def identity(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Identity, and Dropout in inference (its mask output is not produced; a node reading it is refused)."""
    return inputs[0]


def reshape(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    shape = constant_ints(node, inputs[1], "shape")
    if not node.attr("allowzero", 0):
        shape = [x.shape[axis] if size == 0 else size for axis, size in enumerate(shape)]
    return b.call(torch.reshape, x, tuple(shape), name=node.name)


def flatten(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    axis = normalize_axis(node.attr("axis", 1), len(x.shape))
    return b.call(torch.reshape, x, (math.prod(x.shape[:axis]), math.prod(x.shape[axis:])), name=node.name)


def transpose(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    perm = node.attr("perm", list(reversed(range(len(x.shape)))))
    return b.call(torch.permute, x, tuple(perm), name=node.name)


def concat(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    parts = [value for value in inputs if value is not None]
    return b.call(torch.cat, parts, normalize_axis(node.attr("axis"), len(parts[0].shape)), name=node.name)


def squeeze(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    axes = _axes(node, inputs)
    if axes is None:
        axes = [axis for axis, size in enumerate(x.shape) if size == 1]
    axes = {normalize_axis(axis, len(x.shape)) for axis in axes}
    shape = tuple(size for axis, size in enumerate(x.shape) if axis not in axes)
    return b.call(torch.reshape, x, shape, name=node.name)


def unsqueeze(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    axes = _axes(node, inputs)
    rank = len(x.shape) + len(axes)
    new_axes = {normalize_axis(axis, rank) for axis in axes}
    sizes = iter(x.shape)
    shape = tuple(1 if axis in new_axes else next(sizes) for axis in range(rank))
    return b.call(torch.reshape, x, shape, name=node.name)


def slice_(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Positive steps on run-time data; any step on a constant (the TorchScript exporter reverses F.pad's pads
    with a step of -1). starts/ends clamp to the axis as ONNX specifies."""
    x = inputs[0]
    if node.opset < 10:
        starts, ends = node.attr("starts"), node.attr("ends")
        axes, steps = node.attr("axes", list(range(len(starts)))), [1] * len(starts)
    else:
        starts, ends = constant_ints(node, inputs[1], "starts"), constant_ints(node, inputs[2], "ends")
        axes = _optional_ints(node, inputs, 3, "axes") or list(range(len(starts)))
        steps = _optional_ints(node, inputs, 4, "steps") or [1] * len(starts)
    if any(step < 0 for step in steps) and isinstance(x, Const):
        return _reversed_constant_slice(x, starts, ends, axes, steps)
    if any(step <= 0 for step in steps):
        raise node.unsupported("a negative or zero step")
    index = [slice(None)] * len(x.shape)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = normalize_axis(axis, len(x.shape))
        size = x.shape[axis]
        start, end = (min(max(v + size if v < 0 else v, 0), size) for v in (start, end))
        index[axis] = slice(start, end, step)
    return b.call(operator.getitem, x, tuple(index), name=node.name)


def _reversed_constant_slice(x: Const, starts, ends, axes, steps) -> Const:
    """A Slice with negative steps on a constant, folded with numpy. ONNX clamps a negative step's start to
    [0, size - 1] and its end to [-1, size - 1], where -1 means past the first element (None in Python)."""
    values = x.value.numpy()
    index = [slice(None)] * values.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = normalize_axis(axis, values.ndim)
        size = values.shape[axis]
        start, end = (v + size if v < 0 else v for v in (start, end))
        if step > 0:
            index[axis] = slice(min(max(start, 0), size), min(max(end, 0), size), step)
            continue
        end = min(max(end, -1), size - 1)
        index[axis] = slice(min(max(start, 0), size - 1), None if end == -1 else end, step)
    return Const(torch.from_numpy(values[tuple(index)].copy()))


def split(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> list[Value]:
    """Split along `axis` into the given sizes (attribute before opset 13, input after) or equal parts
    (`num_outputs` from opset 18, else one per output); each part is a slice."""
    x = inputs[0]
    axis = normalize_axis(node.attr("axis", 0), len(x.shape))
    sizes = node.attr("split") if node.opset < 13 else _optional_ints(node, inputs, 1, "split")
    if not sizes:
        parts = node.attr("num_outputs", len(node.outputs))
        step = -(-x.shape[axis] // parts)  # ONNX: equal parts, the last one smaller if needed
        sizes = [min(step, x.shape[axis] - start) for start in range(0, x.shape[axis], step)]
    results, start = [], 0
    for index, size in enumerate(sizes):
        index_tuple = tuple(slice(start, start + size) if a == axis else slice(None) for a in range(len(x.shape)))
        results.append(b.call(operator.getitem, x, index_tuple, name=f"{node.name}_{index}"))
        start += size
    return results


def gather(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Gather with constant indices, then the ONNX output shape. On constants (shape arithmetic) index_select;
    on run-time data one slice per run of consecutive indices, concatenated when there are several (int8
    SLICE/CONCATENATION, which copy bytes; an attention export picks Q, K and V out of one projection so)."""
    data = inputs[0]
    indices = constant(node, inputs[1], "indices").long()
    axis = normalize_axis(node.attr("axis", 0), len(data.shape))
    indices = torch.where(indices < 0, indices + data.shape[axis], indices)
    shape = (*data.shape[:axis], *indices.shape, *data.shape[axis + 1:])
    if isinstance(data, Const):
        return Const(torch.index_select(data.value, axis, indices.reshape(-1)).reshape(shape))
    pieces = []
    for run, (start, count) in enumerate(_runs(indices.reshape(-1).tolist())):
        window = (slice(None),) * axis + (slice(start, start + count),)
        pieces.append(b.call(operator.getitem, data, window, name=f"{node.name}_run{run}"))
    picked = pieces[0] if len(pieces) == 1 else b.call(torch.cat, pieces, axis, name=f"{node.name}_concat")
    return b.call(torch.reshape, picked, shape, name=node.name)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of consecutive increasing indices, in order."""
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][0] + runs[-1][1] == index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((index, 1))
    return runs


def pad(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = inputs[0]
    rank = len(x.shape)
    mode = node.attr("mode", "constant")
    if mode not in PAD_MODES:
        raise node.unsupported(f"mode {mode!r}")
    if node.opset < 11:
        flat, fill, axes = node.attr("pads"), float(node.attr("value", 0.0)), list(range(rank))
    else:
        flat = constant_ints(node, inputs[1], "pads")
        fill = float(constant(node, inputs[2], "value")) if len(inputs) > 2 and inputs[2] is not None else 0.0
        axes = [normalize_axis(a, rank) for a in _optional_ints(node, inputs, 3, "axes") or range(rank)]
    pairs = [(0, 0)] * rank
    for axis, begin, end in zip(axes, flat[:len(axes)], flat[len(axes):]):
        pairs[axis] = (begin, end)
    first_padded = next((axis for axis, pair in enumerate(pairs) if pair != (0, 0)), rank)
    if first_padded == rank:
        return x
    if mode != "constant" and first_padded < 2:
        raise node.unsupported(f"{mode} padding of the batch or channel axis")
    extra = {"value": fill} if mode == "constant" else {}
    return b.call(F.pad, x, torch_pad_order(pairs[first_padded:]), mode=PAD_MODES[mode], **extra, name=node.name)


def resize(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Resize (opset ≥ 10) and Upsample: nearest neighbour by integer factors on the spatial axes only."""
    x = inputs[0]
    if node.attr("mode", "nearest") != "nearest":
        raise node.unsupported(f"mode {node.attr('mode')!r} (sapool converts nearest only)")
    if node.op_type == "Resize" and node.opset >= 11:
        rule = (node.attr("coordinate_transformation_mode", "half_pixel"), node.attr("nearest_mode",
                                                                                     "round_prefer_floor"))
        if rule not in NEAREST_LIKE_TORCH:
            raise node.unsupported(f"coordinate_transformation_mode/nearest_mode {rule[0]}/{rule[1]}")
    scales = _resize_scales(node, inputs, x.shape)
    if any(s != int(s) or s < 1 for s in scales) or any(s != 1 for s in scales[:2]):
        raise node.unsupported(f"scales {scales} (sapool converts integer upsampling of the spatial axes)")
    return b.call(F.interpolate, x, scale_factor=tuple(float(s) for s in scales[2:]), mode="nearest",
                  name=node.name)


def _resize_scales(node: OnnxNode, inputs: list[Value | None], shape) -> list[float]:
    if node.op_type == "Upsample" and node.opset < 9:
        return [float(s) for s in node.attr("scales")]
    if node.op_type == "Upsample" or node.opset == 10:
        return constant(node, inputs[1], "scales").float().tolist()
    if len(inputs) > 3 and inputs[3] is not None and constant(node, inputs[3], "sizes").numel():
        return [out / size for out, size in zip(constant_ints(node, inputs[3], "sizes"), shape)]
    return constant(node, inputs[2], "scales").float().tolist()


def _axes(node: OnnxNode, inputs: list[Value | None]) -> list[int] | None:
    """Squeeze/Unsqueeze axes: an attribute before opset 13, an (optional) input from 13 on."""
    if node.opset < 13:
        return node.attr("axes")
    return _optional_ints(node, inputs, 1, "axes")


def _optional_ints(node: OnnxNode, inputs: list[Value | None], index: int, what: str) -> list[int] | None:
    if len(inputs) <= index or inputs[index] is None:
        return None
    return constant_ints(node, inputs[index], what)
