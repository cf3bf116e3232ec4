"""Graph + Layout → the files of a native C model: model/model.c, model/model.h and the kernels they use.

Three public steps, in the order a compiler calls them, on the graph fuse.fuse_for_c returns:
- `check_supported(graph)`: every op has a lowering that accepts it, before anything is planned or written;
- `scratch_needs(graph)`: kernel scratch per op, for the memory planner to place like any other buffer;
- `generate(graph, layout)`: the sources, as {relative path: text}; every arena offset comes from the Layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.registry import lowering_for
from sapool.errors import UnsupportedError
from sapool.ir.analysis import op_macs
from sapool.ir.graph import Graph
from sapool.kernels import HEADERS, kernel_file

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("sapool.backends.c", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class _Layer:
    name: str
    macs: int
    statements: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class _Arena:
    region: str
    symbol: str
    size: int


def check_supported(graph: Graph) -> None:
    """Raise UnsupportedError naming the first op (index and opcode) the C backend cannot compile bit-exactly."""
    if len(graph.outputs) != 1:
        raise UnsupportedError(f"the C backend takes graphs with one output; this one has {len(graph.outputs)}")
    for index in (*graph.inputs, graph.outputs[0]):
        tensor = graph.tensor(index)
        if tensor.dtype != "int8":
            raise UnsupportedError(f"graph input/output '{tensor.name}' is {tensor.dtype}; the C backend needs int8")
    for op in graph.ops:
        lowering = lowering_for(op.opcode)
        if lowering is None:
            raise UnsupportedError(f"op {op.index} ({op.opcode}) has no kernel in the C backend")
        try:
            lowering.check(graph, op)
        except UnsupportedError as error:
            raise UnsupportedError(f"op {op.index} ({op.opcode}): {error}") from None


def scratch_needs(graph: Graph) -> dict[int, int]:
    """{op index: scratch bytes} for the ops whose kernel needs a work buffer (e.g. CONV_2D's im2col patch)."""
    needs = {op.index: lowering_for(op.opcode).scratch_bytes(graph, op) for op in graph.ops}
    return {index: size for index, size in needs.items() if size > 0}


def generate(graph: Graph, layout) -> dict[str, str]:
    """The generated model and the kernel files it needs, as {relative path: file text}.

    `layout` answers `tensor_slot(tensor)`, `scratch_slot(op)` and lists `regions` (name, used_bytes); the
    arenas are sized by it and every pointer is an offset it chose.
    """
    check_supported(graph)
    arenas = [_Arena(region.name, _arena_symbol(region.name), region.used_bytes)
              for region in layout.regions if region.used_bytes > 0]
    context = EmitContext(layout=layout, graph=graph, arena_names={arena.region: arena.symbol for arena in arenas})
    layers, sources = [], set()
    for op in graph.ops:
        lowered: LoweredOp = lowering_for(op.opcode).lower(context, graph, op)
        layers.append(_Layer(f"{op.index} {op.opcode}", op_macs(graph, op), lowered.statements, lowered.comment))
        sources.update(lowered.sources)

    result = graph.tensor(graph.outputs[0])
    values = {
        "model_name": graph.name,
        "inputs": [(context.tensor_pointer(i), graph.tensor(i).nbytes, list(graph.tensor(i).shape))
                   for i in graph.inputs],
        "output_bytes": result.nbytes, "output_shape": list(result.shape),
        "arena_bytes": sum(arena.size for arena in arenas),
        "arenas": arenas, "layers": layers, "structs": context.structs, "arrays": context.arrays,
        "output_pointer": context.tensor_pointer(graph.outputs[0]),
    }
    files = {
        "model/model.h": _TEMPLATES.get_template("model.h.j2").render(values),
        "model/model.c": _TEMPLATES.get_template("model.c.j2").render(values),
    }
    for path in (*HEADERS, *sorted(sources)):
        files[f"kernels/{path}"] = kernel_file(path)
    return files


def _arena_symbol(region: str) -> str:
    """A C identifier for a region's arena: `sapool_arena_<REGION>` with non-identifier characters as '_'."""
    return "sapool_arena_" + re.sub(r"\W", "_", region)
