"""An independent check of patch-based stages (passes/patches.py), sharing none of its geometry code.

For every PATCH_STAGE op, by brute force over rows and columns:
- its ops chain (each reads the previous one's output) from the op's input to its outputs, the terminal ops (the
  last `terminals`, one per stage output) all reading the last chain op's output;
- each terminal op's tiles cover every element of its output exactly once;
- every op's window lies inside its input tensor, its input patch is exactly the chain's previous op's output
  tile (for a terminal op: the last chain op's), and
  every tap of every output in its tile reads, in the patch, the very input element (or padding) it reads in the
  whole tensor: a tap outside the patch (the kernel treats it as padding) must be outside the image, and a tap
  inside the patch must be the same image row or column;
- every patch tensor fits its ping-pong buffer (terminal tiles all take the slot after the last chain tile), and
  the two buffers fit the scratch declared for the op.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sapool.errors import VerificationError
from sapool.ir.graph import Graph, Op
from sapool.ir.windows import window_axis
from sapool.passes.patches import BUFFER_ALIGNMENT, PATCH_STAGE


def check_patch_stages(graph: Graph, scratch: Mapping[int, int] | None) -> None:
    """Raise VerificationError with the first problem found in any PATCH_STAGE op of `graph`."""
    for op in graph.ops:
        if op.opcode == PATCH_STAGE:
            _check_stage(graph, op, (scratch or {}).get(op.index, 0))


def _check_stage(graph: Graph, stage: Op, declared_scratch: int) -> None:
    where = f"patch stage at op {stage.index}"
    options = stage.options
    ops, terminals = options.ops, options.terminals
    chain = len(ops) - terminals
    if (not 1 <= terminals <= len(ops) or (terminals > 1 and chain < 1) or ops[0].inputs[0] != stage.inputs[0]
            or tuple(op.outputs[0] for op in ops[chain:]) != tuple(stage.outputs)):
        raise VerificationError(f"{where}: its ops do not lead from its input to its outputs")
    readers = [ops[position - 1] if position <= chain else ops[chain - 1] for position in range(1, len(ops))]
    for before, after in zip(readers, ops[1:]):
        if after.inputs[0] != before.outputs[0]:
            raise VerificationError(f"{where}: op {after.index} does not read op {before.index}'s output")
    covered = {op.index: np.zeros(graph.tensor(op.outputs[0]).shape[1:3], np.int64) for op in ops[chain:]}
    for windows in options.patches:
        if len(windows) != len(ops):
            raise VerificationError(f"{where}: a patch has {len(windows)} windows for {len(ops)} ops")
        for op, window in zip(ops[chain:], windows[chain:]):
            covered[op.index][slice(*window.out_rows), slice(*window.out_cols)] += 1
        for position, (op, window) in enumerate(zip(ops, windows)):
            source = min(position, chain) - 1  # the op whose tile this op's patch holds
            if position and (window.in_rows, window.in_cols) != (windows[source].out_rows, windows[source].out_cols):
                raise VerificationError(f"{where}: op {op.index}'s patch is not op {ops[source].index}'s tile")
            _check_window(graph, op, window, where)
        _check_buffers(graph, ops, windows, options, where)
    for index, counts in covered.items():
        if counts.min() != 1 or counts.max() != 1:
            raise VerificationError(f"{where}: the tiles cover op {index}'s output elements {counts.min()} to "
                                    f"{counts.max()} times, not exactly once")
    needed = sum(-(-size // BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT for size in options.buffer_bytes)
    if declared_scratch < needed:
        raise VerificationError(f"{where}: its patch buffers need {needed} B of scratch, {declared_scratch} B "
                                f"declared")


def _check_window(graph: Graph, op: Op, window, where: str) -> None:
    _, in_h, in_w, _ = graph.tensor(op.inputs[0]).shape
    _, out_h, out_w, _ = graph.tensor(op.outputs[0]).shape
    for name, (start, stop), size in (("rows", window.in_rows, in_h), ("columns", window.in_cols, in_w)):
        if not 0 <= start < stop <= size:
            raise VerificationError(f"{where}: op {op.index}'s input {name} [{start}, {stop}) leave [0, {size})")
    for name, (start, stop), size in (("rows", window.out_rows, out_h), ("columns", window.out_cols, out_w)):
        if not 0 <= start < stop <= size:
            raise VerificationError(f"{where}: op {op.index}'s tile {name} [{start}, {stop}) leave [0, {size})")
    for axis, (held, tile, pad, size) in enumerate(((window.in_rows, window.out_rows, window.pad_top, in_h),
                                                     (window.in_cols, window.out_cols, window.pad_left, in_w))):
        kernel, stride, dilation, before = _axis(graph, op, axis)
        for out in range(*tile):
            for tap in range(kernel):
                whole = out * stride - before + tap * dilation  # the input index the whole op reads
                local = (out - tile[0]) * stride - pad + tap * dilation  # the one the kernel reads in the patch
                inside_patch = 0 <= local < held[1] - held[0]
                if inside_patch != (0 <= whole < size) or (inside_patch and held[0] + local != whole):
                    raise VerificationError(f"{where}: op {op.index}, output {'row' if axis == 0 else 'column'} "
                                            f"{out}, tap {tap} reads a different input in its patch")


def _axis(graph: Graph, op: Op, axis: int) -> tuple[int, int, int, int]:
    """(kernel, stride, dilation, padding before) of `op` along rows (axis 0) or columns (1), from the model."""
    window = window_axis(graph, op, axis)
    return window.kernel, window.stride, window.dilation, window.pad_before


def _check_buffers(graph: Graph, ops, windows, options, where: str) -> None:
    first, buffer_bytes = windows[0], options.buffer_bytes
    chain = len(ops) - options.terminals
    channels = graph.tensor(ops[0].inputs[0]).shape[3]
    tensors = [(0, first.in_rows, first.in_cols, channels)]
    tensors += [(min(position, chain) + 1, w.out_rows, w.out_cols, graph.tensor(op.outputs[0]).shape[3])
                for position, (op, w) in enumerate(zip(ops, windows))]
    for k, rows, cols, depth in tensors:
        size = (rows[1] - rows[0]) * (cols[1] - cols[0]) * depth
        if size > buffer_bytes[k % 2]:
            raise VerificationError(f"{where}: patch tensor {k} needs {size} B, its buffer holds {buffer_bytes[k % 2]}")
