"""CUSTOM:SAPOOL_PATCH_STAGE (passes/patches.py) → a loop over patches calling the stage's own kernels.

Each inner op's constants are emitted once (named sapool_l<stage>_p<k>_…), and one const parameter struct per
distinct patch geometry of that op (in_h, in_w, out_h, out_w, pad_top, pad_left: the border patches and the
interior ones, 9 per op for vww's 8x8 grid), so the loop copies no struct: a const int16 table gives, per patch,
where its input patch and output tile sit and each op's geometry index. The input patch is copied from the stage
input into patch buffer 0 (reference/patch.c), chain op k reads buffer k % 2 and writes buffer (k + 1) % 2, and
each terminal op (one per stage output, all reading the last chain tile, all with the same output tile position)
writes the other buffer, whose tile is then copied into its own output. Border padding
is the kernels' own: pad_top/pad_left before the patch, the patch's end after it (passes/check_patches.py proves
every tap reads the same input element or padding as on the whole image), so the result is bit-identical.

The op's scratch is the two patch buffers (16-byte aligned) followed by the largest inner kernel scratch.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops import conv, pool
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.passes.patches import BUFFER_ALIGNMENT, PATCH_STAGE, PatchStageOptions

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
    kinds, table = _geometries(options)
    table = ctx.array(f"{prefix}_patches", "int16_t", table)
    row = _MOVES + len(options.ops)
    scratch = ctx.scratch_pointer(op.index)
    ping_bytes = -(-options.buffer_bytes[0] // BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT
    buffers = (f"{scratch}", f"({scratch} + {ping_bytes})")
    kernel_scratch = f"({scratch} + {options.buffers_total})"
    _, _, in_w, in_c = graph.tensor(op.inputs[0]).shape
    lines = ["{"]
    for k, (call, geometries) in enumerate(zip(calls, kinds)):
        structs = [ctx.struct(f"{prefix}_p{k}_g{j}", call.params_type,
                              {**call.fields, **dict(zip(_PATCH_FIELDS, geometry))})
                   for j, geometry in enumerate(geometries)]
        lines.append(f"    static const {call.params_type} *const geometry{k}[{len(structs)}] = "
                     f"{{{', '.join(structs)}}};")
    lines += ["    int32_t patch;",
              f"    for (patch = 0; patch < {len(options.patches)}; ++patch) {{",
              f"        const int16_t *g = {table} + patch * {row};",
              f"        sapool_copy_rows_s8({ctx.tensor_pointer(op.inputs[0])} + (g[0] * {in_w} + g[1]) * {in_c}, "
              f"{in_w * in_c}, {buffers[0]}, g[3] * {in_c}, g[2], g[3] * {in_c});"]
    for k, (inner, call) in enumerate(zip(options.ops, calls)):
        tile = buffers[options.slot(k) % 2]
        statement = call.statement(f"geometry{k}[g[{_MOVES + k}]]", buffers[(options.slot(k) - 1) % 2], tile,
                                   kernel_scratch)
        lines.append(f"        {statement}")
        if k >= options.chain_length:
            _, _, out_w, out_c = graph.tensor(inner.outputs[0]).shape
            lines.append(f"        sapool_copy_rows_s8({tile}, g[7] * {out_c}, {ctx.tensor_pointer(inner.outputs[0])}"
                         f" + (g[4] * {out_w} + g[5]) * {out_c}, {out_w * out_c}, g[6], g[7] * {out_c});")
    lines += ["    }", "}"]
    sources = ("reference/patch.c", *dict.fromkeys(call.source for call in calls))
    grid = "x".join(map(str, options.grid))
    return LoweredOp(("\n    ".join(lines),), sources,
                     f"ops {options.ops[0].index}-{options.ops[-1].index} in {grid} patches")


_MOVES = 8  # table columns before the geometry indices: input patch y, x, rows, cols; output tile y, x, rows, cols


def _geometries(options: PatchStageOptions) -> tuple[list[list[tuple[int, ...]]], np.ndarray]:
    """Per op its distinct patch geometries (in_h, in_w, out_h, out_w, pad_top, pad_left: a border, an interior
    patch...), and per patch a table row: where its input patch and output tile sit, then each op's geometry."""
    kinds: list[dict[tuple[int, ...], int]] = [{} for _ in options.ops]
    rows = []
    for windows in options.patches:
        first, last = windows[0], windows[-1]
        row = [first.in_rows[0], first.in_cols[0], first.in_rows[1] - first.in_rows[0],
               first.in_cols[1] - first.in_cols[0], last.out_rows[0], last.out_cols[0],
               last.out_rows[1] - last.out_rows[0], last.out_cols[1] - last.out_cols[0]]
        for seen, w in zip(kinds, windows):
            geometry = (w.in_rows[1] - w.in_rows[0], w.in_cols[1] - w.in_cols[0], w.out_rows[1] - w.out_rows[0],
                        w.out_cols[1] - w.out_cols[0], w.pad_top, w.pad_left)
            row.append(seen.setdefault(geometry, len(seen)))
        rows.append(row)
    return [list(seen) for seen in kinds], np.array(rows, np.int16)
