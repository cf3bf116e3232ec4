"""Graph + Layout → the files of a native C model: model/model.c, model/model.h and the kernels they use.

Two public steps, on the graph prepare.prepare_for_c returns, around the plan (which places the kernel scratch
registry.scratch_needs declares):
- `check_supported(graph)`: every op has a lowering that accepts it, before anything is planned or written;
- `generate(graph, layout)`: the sources, as {relative path: text}; every arena offset comes from the Layout.

The generated `sapool_invoke(input, output)` takes every graph input packed back to back in graph order (each in
its own type, int8 or float32 for a model with a float interface) and gives every output the same way; model.h
lists each one's offset, type and shape.
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
from sapool.sanitize import JINJA_FILTERS

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("sapool.backends.c", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters.update(JINJA_FILTERS)  # names from the model are data (sapool.sanitize)


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


@dataclass(frozen=True)
class _Port:
    """One graph input or output as model.h describes it: where its bytes sit in sapool_invoke's buffer."""
    pointer: str
    offset: int
    nbytes: int
    dtype: str
    shape: list


IO_DTYPES = ("int8", "float32")  # graph inputs and outputs: int8, or float32 around QUANTIZE / DEQUANTIZE


def check_supported(graph: Graph) -> None:
    """Raise UnsupportedError naming the first op (index and opcode) the C backend cannot compile bit-exactly."""
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for index in indices:
            tensor = graph.tensor(index)
            if tensor.dtype not in IO_DTYPES:
                raise UnsupportedError(f"graph {kind} '{tensor.name}' is {tensor.dtype}; the C backend takes "
                                       f"{' or '.join(IO_DTYPES)}")
    for op in graph.ops:
        lowering = lowering_for(op.opcode)
        if lowering is None:
            raise UnsupportedError(f"op {op.index} ({op.opcode}) has no kernel in the C backend")
        try:
            lowering.check(graph, op)
        except UnsupportedError as error:
            raise UnsupportedError(f"op {op.index} ({op.opcode}): {error}") from None


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

    values = {
        "model_name": graph.name,
        "inputs": _ports(context, graph.inputs), "outputs": _ports(context, graph.outputs),
        "arena_bytes": sum(arena.size for arena in arenas),
        "arenas": arenas, "layers": layers, "structs": context.structs, "arrays": context.arrays,
    }
    files = {
        "model/model.h": _TEMPLATES.get_template("model.h.j2").render(values),
        "model/model.c": _TEMPLATES.get_template("model.c.j2").render(values),
    }
    for path in (*HEADERS, *sorted(sources)):
        files[f"kernels/{path}"] = kernel_file(path)
    return files


def _ports(context: EmitContext, indices) -> list[_Port]:
    """The tensors `indices` packed back to back in graph order, each at its byte offset."""
    ports, offset = [], 0
    for index in indices:
        tensor = context.graph.tensor(index)
        ports.append(_Port(context.tensor_pointer(index), offset, tensor.nbytes, tensor.dtype, list(tensor.shape)))
        offset += tensor.nbytes
    return ports


def _arena_symbol(region: str) -> str:
    """A C identifier for a region's arena: `sapool_arena_<REGION>` with non-identifier characters as '_'."""
    return "sapool_arena_" + re.sub(r"\W", "_", region)
