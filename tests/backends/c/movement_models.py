"""Builders for the single-op models of ops that only move bytes (PAD/PADV2, CONCATENATION, RESHAPE, SQUEEZE,
EXPAND_DIMS, TRANSPOSE, RESIZE_NEAREST_NEIGHBOR, SLICE, STRIDED_SLICE): the output keeps the input's scale and zero point, as TFLite's
int8 kernels require. Registered in single_op_models.BUILDERS; the conventions are explained there."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from tests.backends.c.model_draw import Draw, options_table
from tests.ir.tflite_models import make_quantization


def _pad(draw: Draw, opcode: str):
    """PAD pads with the zero point; PADV2 with a constant int8 operand (the converter's −128 before max pooling)."""
    shape = draw.shape(draw.int(1, 4))
    paddings = [[draw.int(0, 3), draw.int(0, 3)] for _ in shape]
    quant = draw.activation_quant()
    inputs = [draw.input(shape, quant), draw.int32_constant("paddings", paddings)]
    if opcode == "PADV2":
        value = draw.choice((-128, draw.int(-128, 127)))
        inputs.append(draw.builder.tensor("pad_value", [], quantization=make_quantization(*quant),
                                          data=np.array(value, np.int8)))
        draw.note(pad_value=value)
    draw.note(input=tuple(shape), paddings=paddings)
    out_shape = [d + before + after for d, (before, after) in zip(shape, paddings)]
    options = fb.PadV2OptionsT() if opcode == "PADV2" else fb.PadOptionsT()
    return inputs, draw.output(out_shape, quant), options


def _concatenation(draw: Draw):
    base, quant = draw.shape(draw.int(1, 4), high=5), draw.activation_quant()
    axis = draw.int(0, len(base) - 1)
    shapes = [[draw.int(1, 5) if i == axis else d for i, d in enumerate(base)] for _ in range(draw.int(2, 4))]
    constants = [index > 0 and draw.int(0, 4) == 0 for index in range(len(shapes))]
    stored_axis = axis - len(base) if draw.int(0, 2) == 0 else axis
    draw.note(shapes=[tuple(s) for s in shapes], axis=stored_axis, constants=constants)
    inputs = [draw.operand(shape, quant, constant) for shape, constant in zip(shapes, constants)]
    out_shape = [sum(s[axis] for s in shapes) if i == axis else d for i, d in enumerate(base)]
    return inputs, draw.output(out_shape, quant), options_table(fb.ConcatenationOptionsT, axis=stored_axis)


def _reshape(draw: Draw):
    shape, quant = draw.shape(draw.int(1, 4)), draw.activation_quant()
    new_shape = [1] * draw.int(1, 4)
    for factor in _prime_factors(math.prod(shape)):
        new_shape[draw.int(0, len(new_shape) - 1)] *= factor
    stored = list(new_shape)
    if draw.int(0, 2) == 0:
        stored[draw.int(0, len(stored) - 1)] = -1
    draw.note(input=tuple(shape), new_shape=tuple(stored))
    inputs = [draw.input(shape, quant), draw.int32_constant("shape", stored)]
    return inputs, draw.output(new_shape, quant), options_table(fb.ReshapeOptionsT, newShape=stored)


def _squeeze(draw: Draw):
    shape, quant = draw.shape(draw.int(1, 3)), draw.activation_quant()
    for _ in range(draw.int(1, 2)):
        shape.insert(draw.int(0, len(shape)), 1)
    ones = [i for i, d in enumerate(shape) if d == 1]
    dims = [] if draw.int(0, 3) == 0 else sorted({draw.choice(ones) for _ in ones})
    out_shape = [d for i, d in enumerate(shape) if i not in (dims or ones)]
    stored = [d - len(shape) if draw.int(0, 2) == 0 else d for d in dims]
    draw.note(input=tuple(shape), squeeze_dims=tuple(stored))
    options = options_table(fb.SqueezeOptionsT, squeezeDims=stored)
    return [draw.input(shape, quant)], draw.output(out_shape, quant), options


def _expand_dims(draw: Draw):
    shape, quant = draw.shape(draw.int(1, 4)), draw.activation_quant()
    axis = draw.int(-len(shape) - 1, len(shape))
    position = axis if axis >= 0 else axis + len(shape) + 1
    draw.note(input=tuple(shape), axis=axis)
    inputs = [draw.input(shape, quant), draw.int32_constant("axis", axis)]
    return inputs, draw.output([*shape[:position], 1, *shape[position:]], quant), fb.ExpandDimsOptionsT()


def _transpose(draw: Draw):
    shape, quant = draw.shape(draw.int(2, 5), high=4), draw.activation_quant()
    perm = [int(p) for p in draw.rng.permutation(len(shape))]
    if perm == sorted(perm):
        perm.reverse()
    draw.note(input=tuple(shape), perm=tuple(perm))
    inputs = [draw.input(shape, quant), draw.int32_constant("perm", perm)]
    return inputs, draw.output([shape[p] for p in perm], quant), fb.TransposeOptionsT()


def _resize_nearest_neighbor(draw: Draw):
    h, w, channels, quant = draw.int(1, 8), draw.int(1, 8), draw.int(1, 6), draw.activation_quant()
    factor = draw.int(1, 3)
    size = draw.choice(([h * factor, w * factor], [draw.int(1, 12), draw.int(1, 12)]))
    align_corners, half_pixel_centers = draw.choice(((False, False), (True, False), (False, True)))
    draw.note(input=(h, w, channels), size=tuple(size), align_corners=align_corners,
              half_pixel_centers=half_pixel_centers)
    inputs = [draw.input([1, h, w, channels], quant), draw.int32_constant("size", size)]
    options = options_table(fb.ResizeNearestNeighborOptionsT, alignCorners=align_corners,
                       halfPixelCenters=half_pixel_centers)
    return inputs, draw.output([1, *size, channels], quant), options


def _slice(draw: Draw):
    """SLICE with a size of −1 (to the end) on some axes."""
    shape, quant = draw.shape(draw.int(1, 5), high=6), draw.activation_quant()
    begin = [draw.int(0, d - 1) for d in shape]
    size = [-1 if draw.int(0, 3) == 0 else draw.int(1, d - b) for b, d in zip(begin, shape)]
    out_shape = [d - b if n < 0 else n for b, n, d in zip(begin, size, shape)]
    draw.note(input=tuple(shape), begin=tuple(begin), size=tuple(size))
    inputs = [draw.input(shape, quant), draw.int32_constant("begin", begin), draw.int32_constant("size", size)]
    return inputs, draw.output(out_shape, quant), fb.SliceOptionsT()


def _strided_slice(draw: Draw):
    """Negative indices and strides, begin/end masks and shrunk axes, bounds past the ends (clamped)."""
    shape, quant = draw.shape(draw.int(1, 5), high=7), draw.activation_quant()
    begin, end, strides, out_shape = [], [], [], []
    masks = {"beginMask": 0, "endMask": 0, "shrinkAxisMask": 0}
    for axis, dim in enumerate(shape):
        step = draw.choice((1, 1, 2, 3, -1, -2))
        first, last = draw.int(-dim, dim - 1), draw.int(-dim - 2, dim + 2)
        begin.append(first), end.append(last), strides.append(step)
        for mask in ("beginMask", "endMask"):
            masks[mask] |= (draw.int(0, 3) == 0) << axis
        if draw.int(0, 4) == 0:
            masks["shrinkAxisMask"] |= 1 << axis
            strides[-1] = 1
            continue
        start = (0 if step > 0 else dim - 1) if masks["beginMask"] >> axis & 1 else _clamp(first, dim, step)
        stop = (dim if step > 0 else -1) if masks["endMask"] >> axis & 1 else _clamp(last, dim, step)
        out_shape.append(max(0, -(-(stop - start) // step)))
    if 0 in out_shape:  # an empty slice: no bytes to compare; take the whole input instead
        begin, end, strides, masks, out_shape = [0] * len(shape), list(shape), [1] * len(shape), {}, list(shape)
    draw.note(input=tuple(shape), begin=tuple(begin), end=tuple(end), strides=tuple(strides), **masks)
    inputs = [draw.input(shape, quant), draw.int32_constant("begin", begin), draw.int32_constant("end", end),
              draw.int32_constant("strides", strides)]
    return inputs, draw.output(out_shape, quant), options_table(fb.StridedSliceOptionsT, **masks)


def _clamp(index: int, dim: int, step: int) -> int:
    index = index + dim if index < 0 else index
    return min(max(index, 0), dim) if step > 0 else min(max(index, -1), dim - 1)


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


MOVEMENT_BUILDERS = {
    **{opcode: partial(_pad, opcode=opcode) for opcode in ("PAD", "PADV2")},
    "CONCATENATION": _concatenation, "RESHAPE": _reshape, "SQUEEZE": _squeeze, "EXPAND_DIMS": _expand_dims,
    "TRANSPOSE": _transpose, "RESIZE_NEAREST_NEIGHBOR": _resize_nearest_neighbor, "SLICE": _slice,
    "STRIDED_SLICE": _strided_slice,
}
