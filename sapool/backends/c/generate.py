"""Graph + Layout → the files of a native C model: model/model.c, model/model.h and the kernels they use.

Two public steps, on the graph prepare.prepare_for_c returns, around the plan (which places the kernel scratch
registry.scratch_needs declares):
- `check_supported(graph)`: every op has a lowering that accepts it, before anything is planned or written;
- `generate(graph, layout, kernels=...)`: the sources, as {relative path: text}; every arena offset comes from the
  Layout. A project is for one target, so it carries one kernel set ("reference": the portable C in
  kernels/reference/; "arm": the ACLE SIMD twins in kernels/arm/ where there is one) and model.c holds each
  constant once, in the order that set reads (arm_layout.py).

model.h is the application's API (docs/firmware.md): `sapool_model_init()`, `sapool_model_input(i)` (a pointer
into the arena at the input tensor's planned offset: the application writes its input there, no copy),
`sapool_model_invoke()`, `sapool_model_output(i)`, and per input and output its bytes, shape, type and
quantisation as macros; for a sapool checkpoint also the class names and the input normalisation
(`ModelInfo`). Names from the model reach the C only through sapool.sanitize (c_comment, c_string); a long one keeps its
tail, where TFLite's names differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2
import numpy as np

from sapool.backends.c.emit import C_TYPES, NO_SCRATCH, EmitContext, LoweredOp
from sapool.backends.c.registry import lowering_for
from sapool.errors import UnsupportedError
from sapool.ir.analysis import op_macs
from sapool.ir.graph import Graph, Op
from sapool.kernels import ARM_HEADERS, HEADERS, KERNEL_SETS, arm_twin, kernel_file
from sapool.sanitize import JINJA_FILTERS

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("sapool.backends.c", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters.update(JINJA_FILTERS)  # names from the model are data (sapool.sanitize)
_TEMPLATES.filters["tail"] = lambda name, limit: name if len(name) <= limit else "..." + name[-(limit - 3):]


@dataclass(frozen=True)
class ModelInfo:
    """What a sapool checkpoint knows about its interface beyond the graph: the class each output index stands
    for, and the per-channel normalisation of [0, 1] pixels (x = (p - mean) / std) the model was trained on."""

    class_names: tuple[str, ...] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None


@dataclass(frozen=True)
class _Layer:
    label: str  # "<index> <opcode>"; sapool_layer_names adds the name's tail (what the harness prints per layer)
    macs: int
    statements: tuple[str, ...]
    comment: str
    name: str  # the op's name in the source model ("" when it has none)
    origin: str  # where it came from ("tflite operator 3", a torch module path)
    reads: tuple[str, ...]  # names of the activation tensors it reads
    writes: tuple[str, ...]


@dataclass(frozen=True)
class _Arena:
    region: str
    symbol: str
    size: int


@dataclass(frozen=True)
class _Port:
    """One graph input or output: where it lives in the arena, and what the application needs to fill or read it.
    `offset` is its place in the packed row (every input back to back in graph order) inputs.bin and the samples
    use."""

    name: str
    pointer: str
    offset: int
    nbytes: int
    dtype: str
    ctype: str  # int8_t, int16_t or float
    shape: list
    scale: str | None  # C float literal, None for a float port
    zero_point: int | None


# graph inputs and outputs: int8, or float32 / int16 around QUANTIZE / DEQUANTIZE (float and audio interfaces)
IO_DTYPES = ("int8", "int16", "float32")


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


def generate(graph: Graph, layout, info: ModelInfo | None = None, kernels: str = "reference") -> dict[str, str]:
    """The generated model and the kernel files it needs, as {relative path: file text}.

    `layout` answers `tensor_slot(tensor)`, `scratch_slot(op)` and lists `regions` (name, used_bytes); the
    arenas are sized by it and every pointer is an offset it chose. `info` adds a checkpoint's class names and
    input normalisation to model.h; `kernels` is the kernel set ("reference" or "arm") the files are for.
    """
    if kernels not in KERNEL_SETS:
        raise ValueError(f"kernels must be one of {', '.join(KERNEL_SETS)}, not {kernels!r}")
    check_supported(graph)
    arenas = [_Arena(region.name, _arena_symbol(region.name), region.used_bytes)
              for region in layout.regions if region.used_bytes > 0]
    context = EmitContext(layout=layout, graph=graph, arena_names={arena.region: arena.symbol for arena in arenas})
    layers, sources = [], set()
    for op in graph.ops:
        lowered: LoweredOp = lowering_for(op.opcode).lower(context, graph, op)
        layers.append(_layer(graph, op, lowered))
        sources.update(lowered.sources)

    inputs, outputs = _ports(context, graph.inputs), _ports(context, graph.outputs)
    values = {
        "model_name": graph.name,
        "inputs": inputs, "outputs": outputs,
        "input_ctype": _common_ctype(inputs), "output_ctype": _common_ctype(outputs),
        "info": info or ModelInfo(),
        "arena_bytes": sum(arena.size for arena in arenas), "no_scratch": NO_SCRATCH, "kernels": kernels,
        "arenas": arenas, "layers": layers, "structs": context.structs, "arrays": context.arrays,
    }
    files = {
        "model/model.h": _TEMPLATES.get_template("model.h.j2").render(values),
        "model/model.c": _TEMPLATES.get_template("model.c.j2").render(values),
    }
    for path in (*HEADERS, *_kernel_sources(sorted(sources), kernels)):
        files[f"kernels/{path}"] = kernel_file(path)
    return files


def _kernel_sources(reference_sources: list[str], kernels: str) -> list[str]:
    """The kernel files of the set: the reference files, each replaced by its arm twin (plus the arm headers)
    for "arm"."""
    if kernels == "reference":
        return reference_sources
    chosen = [arm_twin(path) or path for path in reference_sources]
    return [*ARM_HEADERS, *chosen] if any(path.startswith("arm/") for path in chosen) else chosen


def _layer(graph: Graph, op: Op, lowered: LoweredOp) -> _Layer:
    def names(indices) -> tuple[str, ...]:
        return tuple(graph.tensor(i).name or f"tensor {i}" for i in indices
                     if i is not None and not graph.tensor(i).is_constant)

    return _Layer(f"{op.index} {op.opcode}", op_macs(graph, op), lowered.statements, lowered.comment,
                  op.name, op.origin, names(op.inputs), names(op.outputs))


def _ports(context: EmitContext, indices) -> list[_Port]:
    """The tensors `indices` in graph order, each with its offset in the packed row."""
    ports, offset = [], 0
    for index in indices:
        tensor = context.graph.tensor(index)
        quantised = tensor.dtype in ("int8", "int16")
        scale = np.format_float_positional(np.float32(tensor.quantization.scale[0]), unique=True) + "f" \
            if quantised else None
        ports.append(_Port(tensor.name or f"tensor {index}", context.tensor_pointer(index), offset, tensor.nbytes,
                           tensor.dtype, C_TYPES[tensor.dtype], [int(d) for d in tensor.shape],
                           scale.replace(".f", ".0f") if scale else None,
                           int(tensor.quantization.zero_point[0]) if quantised else None))
        offset += tensor.nbytes
    return ports


def _common_ctype(ports: list[_Port]) -> str:
    """The element type sapool_model_input/output point to: the ports' one type, or void when they differ."""
    types = {port.ctype for port in ports}
    return types.pop() if len(types) == 1 else "void"


def _arena_symbol(region: str) -> str:
    """A C identifier for a region's arena: `sapool_arena_<REGION>` with non-identifier characters as '_'."""
    return "sapool_arena_" + re.sub(r"\W", "_", region)
