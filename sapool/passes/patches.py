"""Patch-based execution (MCUNetV2-style): a chain of spatially local ops run tile by tile, so that the
full-resolution tensors between them are never stored.

A *stage* is a run of consecutive ops (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D on one NHWC image) where each
op's only activation input is the previous op's output, read by nothing else and no graph output. It may end in
several *terminal* ops instead of one: consecutive spatial ops that all read the chain's last tensor T (its only
readers), with outputs of the same height and width and the same input window on T for every tile (e.g. SAP's
AvgPool and its patch embedding, both 4×4 stride 4 on one map); each patch then computes that window of T once and
runs every terminal op on it. The stage output(s) are cut into a grid of tiles; for each tile every op's needed
input rows and columns are worked out backwards through stride, kernel, dilation and padding (its receptive field),
so a *patch* of the stage input is enough to compute the tile. Inside a patch each op reads a buffer holding exactly
the previous op's tile and writes its own tile into the other of two ping-pong patch buffers; image-border padding
is applied only where a patch touches the border (`Window.pad_top/pad_left` before the held rows and columns, the
kernel's bound after). Neighbouring patches overlap, so ops near the start of a stage compute some outputs twice:
the recompute cost.

`rewrite` replaces the stage by one PATCH_STAGE op that reads the stage input and writes the stage output(s), with
the original ops and the tiling as its options; its patch buffers are the op's scratch. Lifetimes, planners,
lower bounds and reports then need nothing new. `expand` undoes it (for bounds without patches).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sapool.ir.analysis import MAC_COUNTERS, op_macs
from sapool.ir.graph import Graph, Op
from sapool.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from sapool.ir.windows import window_axis

PATCH_STAGE = "CUSTOM:SAPOOL_PATCH_STAGE"
SPATIAL_OPS = {"CONV_2D": Conv2DOptions, "DEPTHWISE_CONV_2D": DepthwiseConv2DOptions,
               "AVERAGE_POOL_2D": Pool2DOptions, "MAX_POOL_2D": Pool2DOptions}
BUFFER_ALIGNMENT = 16  # each patch buffer starts 16-byte aligned inside the stage's scratch


@dataclass(frozen=True)
class Geometry:
    """One spatial op's window along one axis: kernel taps, stride, dilation, padding before the image."""

    kernel: int
    stride: int
    dilation: int
    pad_before: int


@dataclass(frozen=True)
class Window:
    """One op's part of one patch. `in_rows`/`in_cols` are the [start, stop) rows and columns of its full input
    that the patch buffer holds; `out_rows`/`out_cols` its output tile in the full output; `pad_top`/`pad_left`
    the padding rows/columns before the held ones (non-zero only on a patch at the image's top/left border)."""

    in_rows: tuple[int, int]
    in_cols: tuple[int, int]
    out_rows: tuple[int, int]
    out_cols: tuple[int, int]
    pad_top: int
    pad_left: int


@dataclass(frozen=True)
class PatchStageOptions:
    """The stage: its original ops (in order, with their own indices; the last `terminals` of them all read the
    output of the op before them and are the stage's outputs), the tile grid (rows, cols), per patch one Window
    per op, and the two ping-pong patch buffers' bytes (tensor slot k of a patch, k = 0 the input patch, k = i + 1
    chain op i's output tile, k = chain_length + 1 every terminal op's tile in turn, lives in buffer k % 2)."""

    ops: tuple[Op, ...]
    grid: tuple[int, int]
    patches: tuple[tuple[Window, ...], ...]
    buffer_bytes: tuple[int, int]
    terminals: int = 1

    @property
    def chain_length(self) -> int:
        """How many ops come before the terminal ones."""
        return len(self.ops) - self.terminals

    def slot(self, position: int) -> int:
        """The patch tensor slot op `position`'s output tile takes (its buffer is slot % 2)."""
        return min(position, self.chain_length) + 1

    @property
    def buffers_total(self) -> int:
        """Scratch the two patch buffers take, each rounded up to BUFFER_ALIGNMENT."""
        return sum(-(-size // BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT for size in self.buffer_bytes)


def geometry(graph: Graph, op: Op) -> tuple[Geometry, Geometry]:
    """(rows, cols) window geometry of a spatial op (sapool.ir.windows: SAME as TFLite's Prepare, or EXPLICIT)."""
    axes = (window_axis(graph, op, 0), window_axis(graph, op, 1))
    return tuple(Geometry(a.kernel, a.stride, a.dilation, a.pad_before) for a in axes)


def input_range(axis: Geometry, out_range: tuple[int, int], in_size: int) -> tuple[tuple[int, int], int]:
    """The input [start, stop) an output range reads (clipped to the image) and the padding before start."""
    first = out_range[0] * axis.stride - axis.pad_before
    stop = (out_range[1] - 1) * axis.stride - axis.pad_before + (axis.kernel - 1) * axis.dilation + 1
    start = max(first, 0)
    return (start, min(stop, in_size)), start - first


def is_spatial(graph: Graph, op: Op) -> bool:
    """A windowed op on one NHWC int8 image whose other inputs are constants: it can run on a patch."""
    if op.opcode not in SPATIAL_OPS or not isinstance(op.options, SPATIAL_OPS[op.opcode]) or len(op.outputs) != 1:
        return False
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if source.is_constant or any(i is not None and not graph.tensor(i).is_constant for i in op.inputs[1:]):
        return False
    return all(len(t.shape) == 4 and t.shape[0] == 1 and t.dtype == "int8" for t in (source, result))


def stage_runs(graph: Graph) -> list[tuple[int, int]]:
    """Maximal [first, last] runs of consecutive spatial ops that chain as a stage needs (at least two ops),
    each extended by the terminal ops after it when its last tensor has several readers (_with_terminals)."""
    readers = {tensor: len(positions) for tensor, positions in graph.readers().items()}
    runs, start = [], None
    for position, op in enumerate(graph.ops):
        if not is_spatial(graph, op):
            start = None
            continue
        previous = graph.ops[position - 1] if position else None
        chained = (start is not None and op.inputs[0] == previous.outputs[0] and readers[op.inputs[0]] == 1
                   and previous.outputs[0] not in graph.outputs and not graph.tensor(op.inputs[0]).is_variable)
        if not chained:
            start = position
        elif runs and runs[-1][0] == start:
            runs[-1] = (start, position)
        else:
            runs.append((start, position))
    return _with_terminals(graph, runs, readers)


def _with_terminals(graph: Graph, runs: list[tuple[int, int]], readers: dict[int, int]) -> list[tuple[int, int]]:
    """`runs`, where the ops right after a spatial op are spatial ops that are all the readers of its output
    (two or more, same output height and width), with that op and those terminal ops joined to its run (or
    forming one). rewrite still refuses tilings where the terminal ops read different windows."""
    extended = list(runs)
    for position, op in enumerate(graph.ops):
        if not is_spatial(graph, op):
            continue
        shared = op.outputs[0]
        count = readers.get(shared, 0)
        group = graph.ops[position + 1:position + 1 + count]
        if (count < 2 or len(group) != count or shared in graph.outputs or graph.tensor(shared).is_variable
                or not all(is_spatial(graph, t) and t.inputs[0] == shared for t in group)
                or not _self_contained(graph, (op, *group), count)):
            continue
        run = next((r for r in extended if r[0] <= position <= r[1]), None)
        if run is None:
            extended.append((position, position + count))
        else:
            extended[extended.index(run)] = (run[0], position + count)
    return sorted(extended)


def tile_stage(graph: Graph, ops: tuple[Op, ...], grid: tuple[int, int],
               terminals: int = 1) -> PatchStageOptions | None:
    """The tiling of `ops` (a chained stage whose last `terminals` ops all read the output of the op before
    them) into a grid of output tiles, or None when a tile or a window would be empty (a grid finer than the
    output) or the terminal ops would need different windows of their shared input."""
    out_shape = graph.tensor(ops[-1].outputs[0]).shape
    cuts = [[(n * out_shape[1 + axis]) // grid[axis] for n in range(grid[axis] + 1)] for axis in (0, 1)]
    geometries = [geometry(graph, op) for op in ops]
    patches = []
    for tile_rows in zip(cuts[0], cuts[0][1:]):
        for tile_cols in zip(cuts[1], cuts[1][1:]):
            ends = [_window(graph, op, axes, tile_rows, tile_cols)
                    for op, axes in zip(ops[-terminals:], geometries[-terminals:])]
            if None in ends or len(set(ends)) != 1:
                return None
            windows = list(reversed(ends))
            for op, axes in zip(reversed(ops[:-terminals]), reversed(geometries[:-terminals])):
                windows.append(_window(graph, op, axes, windows[-1].in_rows, windows[-1].in_cols))
                if windows[-1] is None:
                    return None
            patches.append(tuple(reversed(windows)))
    options = PatchStageOptions(tuple(ops), grid, tuple(patches), (0, 0), terminals)
    return replace(options, buffer_bytes=_buffer_bytes(graph, options))


def _window(graph: Graph, op: Op, axes: tuple[Geometry, Geometry], rows, cols) -> Window | None:
    """`op`'s window for the output tile rows × cols, None when the tile or its input would be empty."""
    in_shape = graph.tensor(op.inputs[0]).shape
    in_rows, pad_top = input_range(axes[0], rows, in_shape[1])
    in_cols, pad_left = input_range(axes[1], cols, in_shape[2])
    if rows[0] >= rows[1] or cols[0] >= cols[1] or in_rows[0] >= in_rows[1] or in_cols[0] >= in_cols[1]:
        return None
    return Window(in_rows, in_cols, rows, cols, pad_top, pad_left)


def patch_tensor_bytes(graph: Graph, ops: tuple[Op, ...], windows: tuple[Window, ...]) -> list[int]:
    """Bytes of one patch's tensors: the input patch, then each op's output tile."""
    def extent(rows, cols, channels):
        return (rows[1] - rows[0]) * (cols[1] - cols[0]) * channels

    sizes = [extent(windows[0].in_rows, windows[0].in_cols, graph.tensor(ops[0].inputs[0]).shape[3])]
    sizes += [extent(w.out_rows, w.out_cols, graph.tensor(op.outputs[0]).shape[3]) for op, w in zip(ops, windows)]
    return sizes


def _buffer_bytes(graph: Graph, options: PatchStageOptions) -> tuple[int, int]:
    sizes = [0, 0]
    slots = [0, *(options.slot(position) for position in range(len(options.ops)))]
    for windows in options.patches:
        for slot, size in zip(slots, patch_tensor_bytes(graph, options.ops, windows)):
            sizes[slot % 2] = max(sizes[slot % 2], size)
    return sizes[0], sizes[1]


def rewrite(graph: Graph, first: int, last: int, grid: tuple[int, int]) -> Graph | None:
    """`graph` with ops first..last (a sub-run of a stage_runs run) as one PATCH_STAGE op at position `first`
    (later ops renumbered); None when the grid does not fit the stage outputs or the ops do not form a stage
    (a tensor made inside it is read outside it). The stage op reads the stage input and every constant of its
    ops (so weight bytes are still counted) and writes the stage outputs (the terminal ops' outputs)."""
    ops = tuple(graph.ops[first:last + 1])
    terminals = _terminal_count(ops)
    if not _self_contained(graph, ops, terminals):
        return None
    options = tile_stage(graph, ops, grid, terminals)
    if options is None:
        return None
    constants = dict.fromkeys(i for op in ops for i in op.inputs[1:] if i is not None)
    outputs = tuple(op.outputs[0] for op in ops[-terminals:])
    stage = Op(first, PATCH_STAGE, (ops[0].inputs[0], *constants), outputs, options,
               name=f"patches {grid[0]}x{grid[1]} of ops {ops[0].index}-{ops[-1].index}",
               origin=" + ".join(filter(None, (op.origin for op in ops))))
    new_ops = [*graph.ops[:first], stage, *graph.ops[last + 1:]]
    return replace(graph, ops=[replace(op, index=n) for n, op in enumerate(new_ops)])


def _terminal_count(ops: tuple[Op, ...]) -> int:
    """How many ops at the end of `ops` read the same tensor as the last one (1 for a plain chain)."""
    count = 1
    while count < len(ops) and ops[-count - 1].inputs[0] == ops[-1].inputs[0]:
        count += 1
    return count


def _self_contained(graph: Graph, ops: tuple[Op, ...], terminals: int) -> bool:
    """Whether every tensor the stage makes but does not output is read only inside it and is no graph output
    (and, with several terminal ops, some op of the stage makes their shared input)."""
    if terminals > 1 and (terminals == len(ops) or ops[-terminals - 1].outputs[0] != ops[-1].inputs[0]):
        return False
    sizes = {tuple(graph.tensor(op.outputs[0]).shape[1:3]) for op in ops[-terminals:]}
    if len(sizes) != 1:
        return False
    inner = {op.outputs[0] for op in ops[:-terminals]}
    indices = {op.index for op in ops}
    read_outside = any(tensor in inner for op in graph.ops if op.index not in indices
                       for tensor in op.inputs if tensor is not None)
    return not read_outside and not inner & set(graph.outputs)


def stages(graph: Graph) -> list[Op]:
    """The PATCH_STAGE ops of `graph`, in execution order."""
    return [op for op in graph.ops if op.opcode == PATCH_STAGE]


def expand(graph: Graph) -> tuple[Graph, dict[int, int]]:
    """`graph` with every PATCH_STAGE op replaced by its original ops (renumbered in order), and the new index
    of every op that was not a stage (for carrying scratch requests over)."""
    if not stages(graph):
        return graph, {n: n for n in range(len(graph.ops))}
    ops, moved = [], {}
    for op in graph.ops:
        if op.opcode == PATCH_STAGE:
            ops.extend(op.options.ops)
        else:
            moved[op.index] = len(ops)
            ops.append(op)
    return replace(graph, ops=[replace(op, index=n) for n, op in enumerate(ops)]), moved


def patched_macs(graph: Graph, op: Op) -> int:
    """MACs a PATCH_STAGE op executes: each inner op's MACs per output pixel times the pixels of all its tiles
    (where neighbouring patches overlap, those outputs are computed more than once)."""
    options: PatchStageOptions = op.options
    return sum(_pixels(windows[position]) * op_macs(graph, inner) // _pixels(_whole(graph, inner))
               for position, inner in enumerate(options.ops) for windows in options.patches)


def unpatched_macs(graph: Graph, op: Op) -> int:
    """MACs of a PATCH_STAGE op's ops run whole (every output computed once)."""
    return sum(op_macs(graph, inner) for inner in op.options.ops)


def _whole(graph: Graph, op: Op) -> Window:
    _, height, width, _ = graph.tensor(op.outputs[0]).shape
    return Window((0, height), (0, width), (0, height), (0, width), 0, 0)


def _pixels(window: Window) -> int:
    return (window.out_rows[1] - window.out_rows[0]) * (window.out_cols[1] - window.out_cols[0])


MAC_COUNTERS[PATCH_STAGE] = patched_macs  # reports and benchmarks count the work the stage really does
