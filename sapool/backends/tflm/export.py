"""Write a TFLite-Micro export of a planned int8 model into an output folder.

    out_dir/model.tflite            the model; with `offline_plan` (default) sapool's plan is embedded as TFLM's
                                    OfflineMemoryAllocation metadata (offline_plan.py), so TFLM's arena head is
                                    sapool's arena and view ops stop copying, with no change to the user's code
    out_dir/tflm/model_data.cc/.h   the same bytes as a const, 16-byte aligned C array, with its length
    out_dir/tflm/op_resolver.h      a MicroMutableOpResolver with exactly the ops used
    out_dir/tflm/arena_size.h       the arena TFLM needs on a 32-bit MCU (arena.py: head + tail + margin)
    out_dir/tflm/main.cc, Makefile  a small application for a user's own TFLite-Micro checkout (TFLM_DIR)
    out_dir/tflm/README.md          what the files are; says the C++ part is not compiled by sapool's tests

The caller (the compile pipeline) owns `out_dir` and makes it appear atomically; files here are written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from sapool.backends.tflm import offline_plan
from sapool.backends.tflm.arena import HOST_64, MARGIN_BYTES, MCU_32, estimate_arena
from sapool.backends.tflm.op_resolver import resolver_methods
from sapool.ir.graph import Graph
from sapool.memory.layout import Layout
from sapool.memory.lifetimes import aligned, compute_lifetimes
from sapool.memory.planners import make_plan
from sapool.sanitize import JINJA_FILTERS

BYTES_PER_LINE = 12
TEMPLATES = ("model_data.h", "model_data.cc", "op_resolver.h", "arena_size.h", "main.cc", "Makefile", "README.md")
PROGRAM = "sapool_tflm_app"


@dataclass(frozen=True)
class TflmExport:
    arena_bytes: int  # for a 32-bit MCU, margin included: the figure in arena_size.h
    host_arena_bytes: int  # what TFLM's Python interpreter on a 64-bit host needs (no margin): for host checks
    head_bytes: int  # TFLM's activation area: sapool's arena with the offline plan, TFLM's greedy plan without
    tail_bytes: int  # TFLM's bookkeeping on a 32-bit MCU
    offline_plan: bool
    ops: tuple[str, ...]  # distinct opcodes, as registered in op_resolver.h
    model_path: Path  # out_dir/model.tflite
    files: list[Path]  # every file written

    def to_json(self) -> dict:
        return {"arena_bytes": self.arena_bytes, "host_arena_bytes": self.host_arena_bytes,
                "head_bytes": self.head_bytes, "tail_bytes": self.tail_bytes, "offline_plan": self.offline_plan,
                "ops": list(self.ops)}


def write_tflm_export(tflite_bytes: bytes, graph: Graph, offline: Layout | None, out_dir: Path, *,
                      measured_shortfall: int = 0) -> TflmExport:
    """Write the export of `tflite_bytes` (whose subgraph 0 is `graph`) into `out_dir`, with `offline` embedded as
    TFLM's offline plan (sapool.planning.tflm_layout: one arena of `graph`), or None to let TFLM plan itself.
    `measured_shortfall`: bytes TFLM's interpreter needed beyond the estimate (compile_steps.emit measures it when
    the estimate falls short, as it can for tiny models whose start-up, not their head, sets the arena); added to
    both the host and the 32-bit figures."""
    out_dir = Path(out_dir)
    offline_plan = offline is not None
    methods = resolver_methods(graph)  # fails before anything is written when TFLM lacks an op
    model, head = _model_and_head(tflite_bytes, graph, offline)
    planned = sum(1 for tensor in graph.activations() if not tensor.is_variable)
    mcu = estimate_arena(graph, head, planned, MCU_32)
    host = estimate_arena(graph, head, planned, HOST_64)
    if measured_shortfall:
        mcu, host = (replace(estimate, arena_bytes=aligned(estimate.arena_bytes + measured_shortfall, 16),
                             start_up_bytes=estimate.start_up_bytes + measured_shortfall) for estimate in (mcu, host))
    arena = aligned(mcu.arena_bytes + MARGIN_BYTES, 16)
    context = {
        "model": graph.name, "length": len(model), "lines": _c_array_lines(model), "methods": methods,
        "offline_plan": offline_plan, "program": PROGRAM, "arena": arena, "head": head, "tail": mcu.tail_bytes,
        "start_up": mcu.start_up_bytes, "margin": arena - mcu.arena_bytes,
        "plan_note": "Embeds sapool's memory plan (OfflineMemoryAllocation)." if offline_plan
        else "No offline memory plan: TFLite-Micro plans the arena itself.",
    }
    (out_dir / "tflm").mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.tflite"
    model_path.write_bytes(model)
    environment = Environment(loader=PackageLoader("sapool.backends.tflm"), undefined=StrictUndefined,
                              keep_trailing_newline=True)
    environment.filters.update(JINJA_FILTERS)  # the model's name is data: each template escapes it for its language
    files = [model_path]
    for name in TEMPLATES:
        path = out_dir / "tflm" / name
        path.write_text(environment.get_template(f"{name}.j2").render(context))
        files.append(path)
    return TflmExport(arena_bytes=arena, host_arena_bytes=host.arena_bytes, head_bytes=head,
                      tail_bytes=mcu.tail_bytes, offline_plan=offline_plan,
                      ops=tuple(opcode for opcode, _ in methods), model_path=model_path, files=files)


def _model_and_head(tflite_bytes: bytes, graph: Graph, offline: Layout | None) -> tuple[bytes, int]:
    """The model bytes to ship and the arena head TFLM will lay out for them.

    Without the offline plan TFLM plans with its greedy planner and copies view ops; sapool's `greedy` planner on
    non-aliased lifetimes reproduces TFLM's head exactly (docs/memory_planner.md).
    """
    if offline is None:
        model = offline_plan.strip_offline_plan(bytes(tflite_bytes))
        buffers = compute_lifetimes(graph, alias_views=False)
        return model, make_plan(buffers, "greedy", offline_plan.TFLM_ALIGNMENT).arena_bytes
    if offline.graph is not graph or len([use for use in offline.regions if use.buffer_ids]) > 1:
        raise ValueError("the offline plan must be one arena of the exported graph (sapool.planning.tflm_layout)")
    offsets = offline_plan.tensor_offsets(graph, offline)
    return offline_plan.embed_offline_plan(bytes(tflite_bytes), offsets), offline_plan.head_bytes(graph, offsets)


def _c_array_lines(data: bytes) -> list[str]:
    return [", ".join(f"0x{byte:02x}" for byte in data[start:start + BYTES_PER_LINE]) + ","
            for start in range(0, len(data), BYTES_PER_LINE)]
