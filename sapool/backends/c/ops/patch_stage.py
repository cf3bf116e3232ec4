"""CUSTOM:SAPOOL_PATCH_STAGE (memory/patches.py) → a loop over patches calling the stage's own kernels.

Each inner op is lowered as on the whole image (its constants and parameter struct emitted once, named
sapool_l<stage>_p<k>_…); per patch, the generated loop copies the struct and sets the patch's geometry (in_h,
in_w, out_h, out_w, pad_top, pad_left, fields both sapool_conv_params and sapool_pool_params have) from a const
int16 table. The input patch is copied from the stage input into patch buffer 0 (reference/patch.c), op k reads
buffer k % 2 and writes buffer (k + 1) % 2, and the last tile is pasted into the stage output. Border padding
is the kernels' own: pad_top/pad_left before the patch, the patch's end after it (memory/check_patches.py proves
every tap reads the same input element or padding as on the whole image), so the result is bit-identical.

The op's scratch is the two patch buffers (16-byte aligned) followed by the largest inner kernel scratch.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops import conv, pool
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.memory.patches import BUFFER_ALIGNMENT, PATCH_STAGE, PatchStageOptions

OPCODES = (PATCH_STAGE,)

_FAMILIES = {"CONV_2D": conv, "DEPTHWISE_CONV_2D": conv, "AVERAGE_POOL_2D": pool, "MAX_POOL_2D": pool}
_PATCH_FIELDS = ("in_h", "in_w", "out_h", "out_w", "pad_top", "pad_left")


def check(graph: Graph, op: Op) -> None:
    options: PatchStageOptions = op.options
    for inner in options.ops:
        family = _FAMILIES.get(inner.opcode)
        if family is None:
            raise UnsupportedError(f"op {inner.index} ({inner.opcode}) cannot run by patches")
        family.check(graph, inner)


def scratch_bytes(graph: Graph, op: Op) -> int:
    options: PatchStageOptions = op.options
    return options.buffers_total + max(_FAMILIES[inner.opcode].scratch_bytes(graph, inner) for inner in options.ops)


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    options: PatchStageOptions = op.options
    prefix = f"sapool_l{op.index}"
    calls = [_FAMILIES[inner.opcode].window_call(ctx, graph, inner, f"{prefix}_p{k}")
             for k, inner in enumerate(options.ops)]
    table = ctx.array(f"{prefix}_patches", "int16_t", _patch_table(options))
    row = 4 + len(_PATCH_FIELDS) * len(options.ops)
    scratch = ctx.scratch_pointer(op.index)
    ping_bytes = -(-options.buffer_bytes[0] // BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT
    buffers = (f"{scratch}", f"({scratch} + {ping_bytes})")
    kernel_scratch = f"({scratch} + {options.buffers_total})"
    _, _, in_w, in_c = graph.tensor(op.inputs[0]).shape
    _, _, out_w, out_c = graph.tensor(op.outputs[0]).shape
    last = 4 + len(_PATCH_FIELDS) * (len(options.ops) - 1)
    lines = ["{",
             "    int32_t patch;",
             f"    for (patch = 0; patch < {len(options.patches)}; ++patch) {{",
             f"        const int16_t *g = {table} + patch * {row};",
             f"        sapool_copy_rows_s8({ctx.tensor_pointer(op.inputs[0])} + (g[0] * {in_w} + g[1]) * {in_c}, "
             f"{in_w * in_c}, {buffers[0]}, g[5] * {in_c}, g[4], g[5] * {in_c});"]
    for k, call in enumerate(calls):
        base = 4 + len(_PATCH_FIELDS) * k
        fields = " ".join(f"p.{name} = g[{base + n}];" for n, name in enumerate(_PATCH_FIELDS))
        statement = call.statement("&p", buffers[k % 2], buffers[(k + 1) % 2], kernel_scratch)
        lines.append(f"        {{ {call.params_type} p = {call.params}; {fields} {statement} }}")
    lines += [f"        sapool_copy_rows_s8({buffers[len(calls) % 2]}, g[{last + 3}] * {out_c}, "
              f"{ctx.tensor_pointer(op.outputs[0])} + (g[2] * {out_w} + g[3]) * {out_c}, {out_w * out_c}, "
              f"g[{last + 2}], g[{last + 3}] * {out_c});",
              "    }",
              "}"]
    sources = ("reference/patch.c", *dict.fromkeys(call.source for call in calls))
    grid = "x".join(map(str, options.grid))
    return LoweredOp(("\n    ".join(lines),), sources,
                     f"ops {options.ops[0].index}-{options.ops[-1].index} in {grid} patches")


def _patch_table(options: PatchStageOptions) -> np.ndarray:
    """Per patch: the input patch's first row and column, the output tile's first row and column, then per op
    in_h, in_w, out_h, out_w, pad_top, pad_left."""
    rows = []
    for windows in options.patches:
        first, last = windows[0], windows[-1]
        row = [first.in_rows[0], first.in_cols[0], last.out_rows[0], last.out_cols[0]]
        for w in windows:
            row += [w.in_rows[1] - w.in_rows[0], w.in_cols[1] - w.in_cols[0], w.out_rows[1] - w.out_rows[0],
                    w.out_cols[1] - w.out_cols[0], w.pad_top, w.pad_left]
        rows.append(row)
    return np.array(rows, np.int16)
