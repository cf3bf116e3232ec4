"""`sapool compile`'s results as one JSON document, extra HTML report sections, and the terminal summary.

All three read the same CompileJob, so the terminal, report.json and report.html cannot disagree.
"""

from __future__ import annotations

from typing import Any

from sapool.compile_steps.job import CompileJob
from sapool.firmware.report import shorten_front
from sapool.memory.render_html import Section
from sapool.units import format_bytes

SCHEMA_VERSION = 1
WORST_LAYERS = 5  # listed with -v


def result_document(job: CompileJob, timings: list[tuple[str, float]]) -> dict[str, Any]:
    """The report.json document (strict JSON: no NaN). Keys the issue lists are stable; more may be added."""
    from sapool.memory.report_json import to_dict

    request, layout = job.request, job.layout
    ops = sorted({op.opcode for op in job.graph.ops})
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "totals": totals(job),
        "model": str(request.model),
        "model_kind": job.loaded.kind,
        "target": request.target,
        "output": str(request.output),
        "steps": [{"name": name, "seconds": round(seconds, 3)} for name, seconds in timings],
        "int8": {"all_int8": all_int8(job), "ops": ops},
        "accuracy": _accuracy(job),
        "verify": _verify(job),
        "plan": {
            "peak_arena_bytes": layout.peak_arena_bytes,
            "lower_bound_bytes": layout.lower_bound_bytes,
            "fits": job.report.fits,
            "scratch_bytes": sum(buffer.size for buffer in layout.buffers if buffer.kind == "scratch"),
            "passes": [effect.to_json() for effect in job.passes],
            "report": to_dict(job.report),
        },
        "tflm": None if job.tflm is None else {"arena_bytes": job.tflm.arena_bytes,
                                               "offline_plan": request.offline_plan},
        "firmware": job.firmware,
        "latency": None if job.latency is None else job.latency.to_dict(),
        "warnings": list(job.warnings),
    }
    return document


def totals(job: CompileJob) -> dict[str, Any]:
    """What the model costs on the board, first in every report: RAM (arena + static + worst-case stack, from the
    built ELF; the planned arena alone when the firmware was not built, `ram_basis` says which), flash (the ELF's
    programmed sections; None unbuilt) and latency (the cycle model at the target's clock; None without QEMU)."""
    firmware, latency = job.firmware, job.latency
    return {
        "ram_bytes": firmware["predicted_ram_bytes"] if firmware else job.layout.peak_arena_bytes,
        "ram_basis": "arena + static + stack (ELF)" if firmware else "planned arena only (firmware not built)",
        "flash_bytes": firmware["flash_bytes"] if firmware else None,
        "latency_cycles": latency.cycles if latency is not None else None,
        "latency_ms": round(latency.ms, 3) if latency is not None else None,
        "clock_hz": job.target.clock_hz,
    }


def _totals_in_words(job: CompileJob) -> list[tuple[str, str]]:
    """(figure, value in words) for RAM, flash and latency, each saying what it is made of."""
    figures, firmware, latency = totals(job), job.firmware, job.latency
    if firmware:
        ram = (f"{figures['ram_bytes']:,} B = arena {firmware['arena_bytes']:,} + static "
               f"{firmware['static_ram_bytes']:,} + worst-case stack {firmware['model_stack_bytes']:,}")
        flash = f"{figures['flash_bytes']:,} B of code and weights (from the ELF)"
    else:
        ram, flash = f"{figures['ram_bytes']:,} B planned arena (firmware not built)", "not built"
    if latency is not None:
        speed = (f"{latency.ms:.2f} ms = {latency.cycles:,} cycles at {latency.clock_hz / 1e6:g} MHz "
                 f"({latency.core} cycle model; a lower bound: flash wait states and cache misses not counted)")
    else:
        speed = "not measured (needs the built firmware and qemu-system-arm)"
    return [("RAM", ram), ("flash", flash), ("latency", speed)]


def totals_section(job: CompileJob) -> Section:
    """The HTML report's first table: the totals in words."""
    return Section("Totals", ("figure", "value"), tuple(_totals_in_words(job)))


def all_int8(job: CompileJob) -> bool:
    """Every activation of the int8 graph is int8 (biases are int32 constants, which TFLite's int8 scheme wants),
    apart from float graph inputs and outputs (a float interface, quantised and dequantised at the boundary)."""
    return all(t.dtype == "int8" or t.index in _interface(job) for t in job.graph.activations())


def _interface(job: CompileJob) -> set[int]:
    return {*job.graph.inputs, *job.graph.outputs}


def _accuracy(job: CompileJob) -> dict[str, Any] | None:
    result = job.accuracy
    if result is None:
        return None
    return {"float_top1": result.float_top1, "int8_top1": result.int8_top1, "images": result.images,
            "drop_points": result.drop_points,
            "layers": [{"name": layer.name, "op": layer.op, "tensor": layer.tensor, "cosine": layer.cosine,
                        "max_abs": layer.max_abs, "relative_l2": layer.relative_l2} for layer in result.layers]}


def _verify(job: CompileJob) -> dict[str, Any] | None:
    comparison = job.verification.get("tflm")
    if comparison is None:
        return None
    fully_connected = any(op.opcode == "FULLY_CONNECTED" for op in job.graph.ops)
    reference = "ai-edge-litert BUILTIN_REF"
    if fully_connected and job.request.rounding == "tflm":
        reference += " (FULLY_CONNECTED run as 1x1 CONV_2D: TFLite-Micro's rounding, as the firmware; --rounding)"
    return {"reference": reference, "candidate": "tflite-micro interpreter", "rounding": job.request.rounding,
            "bit_exact_fraction": comparison.bit_exact_fraction, "max_lsb_diff": comparison.max_lsb_diff,
            "details": comparison.to_json()}


def html_sections(job: CompileJob, timings: list[tuple[str, float]]) -> tuple[Section, ...]:
    sections = [Section("Compile steps", ("step", "seconds"),
                        tuple((name, f"{seconds:.2f}") for name, seconds in timings))]
    if job.accuracy is not None:
        result = job.accuracy
        rows = (("float", f"{result.float_top1:.2%}"),) if result.float_top1 is not None else ()
        sections.append(Section("Accuracy (top-1)", ("model", f"on {result.images:,} held-out images"),
                                (*rows, ("int8", f"{result.int8_top1:.2%}"))))
        sections.append(Section("Per-layer int8 vs float error", ("layer", "cosine", "max abs", "relative L2"),
                                tuple((f"{layer.name} ({layer.op})", f"{layer.cosine:.4f}", f"{layer.max_abs:.4g}",
                                       "-" if layer.relative_l2 is None else f"{layer.relative_l2:.4f}")
                                      for layer in result.layers)))
    verify = _verify(job)
    if verify is not None:
        note = verify["details"].get("note") or ""
        sections.append(Section("Host verification", ("comparison", "bit-exact", "max LSB", "note"), (
            (f"{verify['reference']} vs {verify['candidate']}", f"{verify['bit_exact_fraction']:.2%}",
             str(verify["max_lsb_diff"]), note),)))
    if job.firmware:
        sections.append(Section("Firmware (from the ELF)", ("figure", "bytes"),
                                tuple((FIRMWARE_WORDS[key], f"{value:,}") for key, value in job.firmware.items()
                                      if key in FIRMWARE_WORDS)))
    if job.latency is not None:
        sections.append(_latency_section(job))
    return tuple(sections)


FIRMWARE_WORDS = {
    "flash_bytes": "flash: code and weights",
    "predicted_ram_bytes": "model RAM: arena + static + worst-case stack",
    "arena_bytes": "activation arena in the ELF",
    "planned_arena_bytes": "activation arena planned",
    "static_ram_bytes": "static data of the model and kernels (.data + .bss)",
    "model_stack_bytes": "model's worst-case stack (compiler call graph)",
    "harness_ram_bytes": "the image's own I/O buffers (not the model's)",
    "stack_reserved_bytes": "stack reserved by the harness",
}


def _latency_section(job: CompileJob) -> Section:
    """Per layer: op, name (its tail), cycles and ms at the target's clock, share of the total; the model's
    assumptions in the title row's note."""
    latency, ops = job.latency, job.layout.graph.ops
    total = latency.cycles or 1
    rows = tuple((f"{op.index} {op.opcode}", shorten_front(op.name, 48), f"{cycles:,}",
                  f"{latency.layer_ms(op.index):.3f}", f"{100 * cycles / total:.1f}")
                 for op, cycles in zip(ops, latency.layer_cycles, strict=True))
    return Section(f"Latency per layer ({latency.core} at {latency.clock_hz / 1e6:g} MHz; {latency.assumptions})",
                   ("layer", "name", "cycles", "ms", "%"), rows)


def render_summary(result, *, verbose: bool = False) -> str:
    """The lines printed at the end of `sapool compile`; `verbose` adds the layers furthest from float."""
    job = result.job
    layout, lines = job.layout, []
    lines.append(f"{job.request.model.name} ({job.loaded.kind}) → {job.request.output}/ for {job.request.target}")
    lines += [f"  {figure}: {value}" for figure, value in _totals_in_words(job)]
    floats = sum(job.graph.tensor(i).dtype == "float32" for i in _interface(job))
    interface = f" ({floats} float32 graph input/output{'s' if floats != 1 else ''})" if floats else ""
    lines.append(f"  int8: {len(job.graph.ops)} ops, all int8: {'yes' if all_int8(job) else 'NO'}{interface}")
    if job.accuracy is not None:
        a = job.accuracy
        before = f"float {a.float_top1:.2%} → " if a.float_top1 is not None else ""
        lines.append(f"  accuracy: {before}int8 {a.int8_top1:.2%} top-1 on {a.images:,} images")
        if verbose:
            for layer in sorted(a.layers, key=lambda layer: layer.cosine)[:WORST_LAYERS]:
                lines.append(f"    {layer.name} ({layer.op}): cosine {layer.cosine:.4f}, max abs {layer.max_abs:.4g}")
    verify = _verify(job)
    if verify is not None:
        first = verify["details"]["first_divergence"]
        where = f", first at op {first['op_index']} ({first['opcode']})" if first else ""
        note = verify["details"].get("note")
        lines.append(f"  TFLite reference vs TFLite-Micro: {verify['bit_exact_fraction']:.2%} of outputs bit-exact, "
                     f"max {verify['max_lsb_diff']} LSB{where}" + (f" ({note})" if note else ""))
    lines.append(f"  plan: {format_bytes(layout.peak_arena_bytes)} activations (lower bound "
                 f"{format_bytes(layout.lower_bound_bytes)}); {job.report.verdict()}")
    for stage in job.report.patch_stages:
        lines.append(f"  patches: layer {stage.layer} runs ops {stage.ops[0]}-{stage.ops[-1]} in "
                     f"{stage.grid[0]}x{stage.grid[1]} patches, recompute +{stage.extra_macs:,} MACs "
                     f"(+{job.report.extra_macs_percent:.1f} % of the model); without patches the bound is "
                     f"{format_bytes(job.report.unpatched_lower_bound_bytes)}")
    if job.tflm is not None:
        lines.append(f"  TFLite-Micro arena: {job.tflm.arena_bytes:,} B (tflm/arena_size.h)")
    if job.firmware:
        f = job.firmware
        lines.append(f"  firmware (from the ELF): arena {f['arena_bytes']:,} B (planned {f['planned_arena_bytes']:,} B); "
                     f"the image's own I/O buffers add {f['harness_ram_bytes']:,} B and a "
                     f"{f['stack_reserved_bytes']:,} B stack reserve")
    elif job.request.firmware:
        lines.append(f"  firmware: project written to {job.request.output}/ (not built); build it with `make`")
    lines += [f"  warning: {w}" for w in job.warnings]
    lines.append(f"  report: {job.request.output}/report.html (and report.json)")
    return "\n".join(lines)
