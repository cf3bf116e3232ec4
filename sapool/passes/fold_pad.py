"""fold-pad: a PAD (or PADV2) read only by a CONV_2D, DEPTHWISE_CONV_2D or MAX_POOL_2D becomes that op's own
padding, so the padded copy of the image is never stored.

Exporters write torch's `padding=1` as an explicit PAD wherever TFLite's SAME would pad differently (a stride-2
3×3 window: torch pads 1 before and 1 after, SAME 0 before and 1 after). That padded tensor is the image plus a
border, live next to its input: on a MobileNetV2 (width 0.5, 96×96) a 120,000 B PAD output sets the peak.
Folded, the op gets padding "EXPLICIT" with per-side `pads` (sapool.ir.windows), the kernels pad before the image
by (pad_top, pad_left) and clip windows at its far edges, and the result is bit-identical:
- a convolution's padded taps hold the input zero point, which is exactly what PAD writes (the fill must be that
  zero point: PAD's output zero point, or PADV2's constant equal to it);
- a max pool's padded taps can never win when the fill is −128, the int8 minimum (the converter's PADV2 for
  torch's −∞ border), as long as every window still holds an image element.
AVERAGE_POOL_2D is not folded: TFLite divides by the in-image count, PAD makes the border count.
PAD must not rescale (same quantisation in and out), pad only rows and columns, and have constant paddings. The
rewrite is structural (shapes, constants, quantisation), so an unquantised estimate graph folds into its
convolutions as its export does.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sapool.ir.graph import Graph, Op
from sapool.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from sapool.ir.windows import window_axis
from sapool.passes.graph_rewrite import is_constant, only_reader, splice

FOLDS_INTO = {"CONV_2D": Conv2DOptions, "DEPTHWISE_CONV_2D": DepthwiseConv2DOptions, "MAX_POOL_2D": Pool2DOptions}
INT8_MIN = -128


def fold_pad(graph: Graph) -> Graph:
    """`graph` with every foldable PAD folded into its reader (ops renumbered); `graph` itself when none is."""
    readers = graph.readers()
    folded: dict[int, Op] = {}
    dropped: set[int] = set()
    for position, pad in enumerate(graph.ops):
        if pad.opcode not in ("PAD", "PADV2") or len(pad.outputs) != 1:
            continue
        reader_at = only_reader(graph, readers, pad.outputs[0])
        if reader_at is None:
            continue
        reader = graph.ops[reader_at]
        pads = _spatial_pads(graph, pad)
        if pads is None or not _foldable(graph, pad, reader):
            continue
        own = [window_axis(graph, reader, axis) for axis in (0, 1)]
        total = (pads[0] + own[0].pad_before, pads[1] + own[0].pad_after,
                 pads[2] + own[1].pad_before, pads[3] + own[1].pad_after)
        image = graph.tensor(pad.inputs[0]).shape[1:3]
        if reader.opcode == "MAX_POOL_2D" and not _every_window_reads_the_image(own, image, total):
            continue
        options = replace(reader.options, padding="EXPLICIT", pads=total)
        folded[reader_at] = replace(reader, inputs=(pad.inputs[0], *reader.inputs[1:]), options=options,
                                    origin=" + ".join(filter(None, (pad.origin, reader.origin))))
        dropped.add(position)
    return splice(graph, folded, dropped)


def _spatial_pads(graph: Graph, pad: Op) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a PAD on an NHWC image that pads only rows and columns; None otherwise."""
    if len(pad.inputs) < 2 or pad.inputs[1] is None:  # the torch-side estimate's PAD carries no paddings tensor
        return None
    if not is_constant(graph, pad.inputs[1]) or len(graph.tensor(pad.inputs[0]).shape) != 4:
        return None
    tensor = graph.tensor(pad.inputs[1])
    if tensor.dtype not in ("int32", "int64") or tuple(tensor.shape) != (4, 2):
        return None
    paddings = np.frombuffer(tensor.data, np.dtype(tensor.dtype).newbyteorder("<")).reshape(4, 2)
    if (paddings < 0).any() or paddings[0].any() or paddings[3].any():
        return None
    return tuple(int(value) for value in paddings[1:3].reshape(-1))


def _foldable(graph: Graph, pad: Op, reader: Op) -> bool:
    """The reader is a windowed op reading the padded image as its input, and the fill is what its own padding
    would be: the zero point for a convolution, −128 for an int8 max pool; PAD does not rescale."""
    if reader.opcode not in FOLDS_INTO or not isinstance(reader.options, FOLDS_INTO[reader.opcode]):
        return False
    if reader.inputs[0] != pad.outputs[0] or pad.outputs[0] in reader.inputs[1:]:
        return False
    source, padded = graph.tensor(pad.inputs[0]), graph.tensor(pad.outputs[0])
    if source.quantization != padded.quantization or source.dtype != padded.dtype:
        return False
    fill = _fill(graph, pad)
    if reader.opcode == "MAX_POOL_2D":
        return padded.dtype == "int8" and fill == INT8_MIN
    return fill is not None and fill == _zero_point(padded)


def _fill(graph: Graph, pad: Op) -> int | None:
    """The value PAD writes: its output zero point (0 unquantised), or PADV2's one constant int8 of the same
    quantisation; None when it cannot be known at compile time."""
    if len(pad.inputs) > 2 and pad.inputs[2] is not None:
        value = graph.tensor(pad.inputs[2])
        if (not value.is_constant or value.dtype != "int8" or value.num_elements != 1
                or value.quantization != graph.tensor(pad.outputs[0]).quantization):
            return None
        return int(np.frombuffer(value.data, np.int8)[0])
    return _zero_point(graph.tensor(pad.outputs[0]))


def _zero_point(tensor) -> int | None:
    """A per-tensor zero point (0 for an unquantised estimate graph); None for a per-channel one."""
    quantization = tensor.quantization
    if quantization is None:
        return 0
    return int(quantization.zero_point[0]) if len(quantization.zero_point) == 1 else None


def _every_window_reads_the_image(axes, image: tuple[int, int], pads: tuple[int, int, int, int]) -> bool:
    """No window of the max pool lies wholly in padding (its kernel clips windows to the image)."""
    for axis, size, before in zip(axes, image, pads[0::2]):
        first_end = axis.span - before  # exclusive end of the first window, in image coordinates
        last_start = (axis.out_size - 1) * axis.stride - before
        if first_end <= 0 or last_start >= size:
            return False
    return True
