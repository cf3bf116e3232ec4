"""What `sapool emulate` reports: outputs vs TFLite's reference kernels, instructions, RAM and flash.

RAM figures: `planned_bytes` is the memory planner's arena (all regions); `measured_bytes` is what the firmware
really takes for the model: the arena sections read from the ELF + the model's and kernels' static data
(.data/.bss) + the stack sapool_model_invoke uses (the painted stack's high-water mark minus what the harness had in
use when it called it). The harness's own I/O buffers, counters and stack frames (an application has its own)
are listed apart (`harness_bytes`, `stack_high_water_bytes`) and not counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sapool.outputs import strict_json

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LayerFigures:
    index: int
    op: str
    name: str
    macs: int
    instructions: int  # per inference
    cycles: int  # per inference on the target's core, from the cycle model (firmware.cycle_model)


def predicted_ram_bytes(planned_arena_bytes: int, static_bytes: int, stack_bound_bytes: int) -> int:
    """The RAM the model is predicted to take on the part before it runs: the planned arena, the static data the
    ELF holds and the deepest stack the call graph allows (`sapool compile` and `sapool emulate` both print it)."""
    return planned_arena_bytes + static_bytes + stack_bound_bytes


@dataclass(frozen=True)
class RamFigures:
    planned_bytes: int  # the planner's arena
    predicted_bytes: int  # planned arena + static data (ELF) + the model's worst-case stack (call graph)
    measured_bytes: int
    arena_bytes: int
    static_bytes: int
    stack_bytes: int  # what sapool_model_invoke adds to the caller's stack (high-water mark minus the harness's part)
    stack_bound_bytes: int  # the deepest frame chain under sapool_model_invoke in the compiler's call graph
    stack_high_water_bytes: int  # the whole firmware's, harness included
    stack_reserved_bytes: int
    harness_bytes: int
    regions: tuple[dict, ...]  # {name, size_bytes, planned_bytes, measured_bytes}


@dataclass(frozen=True)
class EmulationReport:
    model: str
    target: str
    board: str  # the emulated target it ran on, e.g. qemu-m7
    qemu_machine: str
    kernels: str  # the kernel set built: "arm" (kernels/arm/ SIMD twins) or "reference" (portable C)
    inputs: int
    inputs_description: str
    bit_exact: bool
    mismatches: int  # inputs whose output differs from TFLite's reference kernels in any byte
    max_lsb_diff: int
    instructions_total: int  # per inference (the whole sapool_model_invoke call)
    macs: int
    layers: tuple[LayerFigures, ...]
    ram: RamFigures
    flash_bytes: int
    flash_size_bytes: int
    labelled_inputs: int = 0  # the project's stored held-out inputs among those run (a class-vector output only)
    classified_right: int | None = None  # of those, how many the firmware's output argmax gave the label of
    latency: dict | None = None  # firmware.latency.Latency.to_dict(): cycles and ms at the target's clock

    @property
    def instructions_per_mac(self) -> float:
        return self.instructions_total / self.macs if self.macs else 0.0


def to_json(report: EmulationReport) -> str:
    document = {"schema_version": SCHEMA_VERSION, **asdict(report)}
    document["instructions_per_mac"] = round(report.instructions_per_mac, 4)
    document["layers"] = [asdict(layer) for layer in report.layers]
    document["ram"] = {**asdict(report.ram), "regions": list(report.ram.regions)}
    return strict_json(document) + "\n"


def _where(report: EmulationReport) -> str:
    """"QEMU netduinoplus2" when the board is QEMU's own machine, else "qemu-m7 (QEMU mps2-an500)"."""
    if report.board == report.qemu_machine:
        return f"QEMU {report.qemu_machine}"
    return f"{report.board} (QEMU {report.qemu_machine})"


def to_text(report: EmulationReport) -> str:
    ram = report.ram
    verdict = "yes" if report.bit_exact else f"NO ({report.mismatches} of {report.inputs} differ, " \
                                              f"up to {report.max_lsb_diff} LSB)"
    lines = [
        f"{report.model} on {report.target}, emulated on {_where(report)}, -icount shift=0",
        *_latency_lines(report),
        f"kernels: {report.kernels}",
        f"inputs: {report.inputs} ({report.inputs_description})",
        f"bit-exact with TFLite reference kernels: {verdict}",
        *_classification_lines(report),
        f"instructions per inference: {report.instructions_total:,} ({report.instructions_per_mac:.2f} per MAC, "
        f"{report.macs:,} MACs)",
        f"RAM planned: {ram.planned_bytes:,} B arena; predicted {ram.predicted_bytes:,} B = arena + static "
        f"{ram.static_bytes:,} + worst-case stack {ram.stack_bound_bytes:,} (call graph); measured: "
        f"{ram.measured_bytes:,} B = arena {ram.arena_bytes:,} + static {ram.static_bytes:,} + stack "
        f"{ram.stack_bytes:,} (firmware's high-water {ram.stack_high_water_bytes:,} of {ram.stack_reserved_bytes:,})",
        *_region_lines(ram),
        f"flash: {report.flash_bytes:,} of {report.flash_size_bytes:,} B",
        "",
        *layer_table(report),
    ]
    return "\n".join(lines) + "\n"


def layer_table(report: EmulationReport) -> list[str]:
    """Per layer: op, its name (the tail, where names differ), MACs, instructions and their share, cycles; the
    layer with the most instructions flagged as the hotspot."""
    total = sum(layer.instructions for layer in report.layers) or 1
    hottest = max(report.layers, key=lambda layer: layer.instructions, default=None)
    width = min(max((len(layer.name) for layer in report.layers), default=4), 40)
    lines = [f"{'#':>3}  {'op':<20} {'name':<{width}} {'MACs':>11} {'instructions':>13} {'%':>5} "
             f"{'instr/MAC':>9} {'cycles':>12}"]
    for layer in report.layers:
        per_mac = f"{layer.instructions / layer.macs:.2f}" if layer.macs else "-"
        flag = "  << hotspot" if layer is hottest else ""
        lines.append(f"{layer.index:>3}  {layer.op:<20} {shorten_front(layer.name, width):<{width}} "
                     f"{layer.macs:>11,} {layer.instructions:>13,} {100 * layer.instructions / total:>5.1f} "
                     f"{per_mac:>9} {layer.cycles:>12,}{flag}")
    return lines


def shorten_front(text: str, width: int) -> str:
    """`text` cut from the front to `width` characters ("..." first), so the distinguishing tail stays."""
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _latency_lines(report: EmulationReport) -> list[str]:
    latency = report.latency
    if latency is None:
        return []
    return [f"latency: {latency['cycles']:,} cycles = {latency['ms']:.2f} ms at {latency['clock_hz'] / 1e6:g} MHz "
            f"on the {report.target}'s {latency['core']} (modelled from the emulator's instruction trace)",
            f"  {latency['assumptions']}"]


def _classification_lines(report: EmulationReport) -> list[str]:
    if report.classified_right is None:
        return []
    return [f"classified right: {report.classified_right} of {report.labelled_inputs} labelled inputs "
            f"({report.classified_right / report.labelled_inputs:.0%}, the firmware's output argmax vs the label)"]


def _region_lines(ram: RamFigures) -> list[str]:
    """One line per region holding an arena, when the plan uses more than one."""
    used = [region for region in ram.regions if region["planned_bytes"] or region["measured_bytes"]]
    if len(used) < 2:
        return []
    return [
        f"  {region['name']}: arena planned {region['planned_bytes']:,} B, in the ELF {region['measured_bytes']:,} B "
        f"(region {region['size_bytes']:,} B)"
        for region in used
    ]
