"""The memory report as plain data, and its JSON form (DESIGN §6).

analyze.py fills a MemoryReport from a model and a target; render_text / render_html and `to_json` only read it.
Keeping the numbers in one frozen structure means the three output formats cannot disagree with each other.
Sizes are bytes; `offset` is relative to the start of the buffer's region, `address` is absolute.
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.memory.advice import peak_buffers, suggestions
from sapool.outputs import strict_json

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LayerRow:
    """One op in execution order, with what it costs."""

    index: int
    op: str
    output_shape: tuple[int, ...]  # of the first output
    output_bytes: int  # all outputs, unaligned
    weight_bytes: int  # constant inputs (flash)
    macs: int
    live_bytes: int  # aligned bytes of every buffer live during this op
    output_buffers: tuple[int, ...]  # buffer ids holding the outputs (a view op's output shares its input's)
    in_place: bool = False  # the op writes its output over an input that dies at it (memory/in_place.py)
    patches: str = ""  # for a patch stage (memory/patches.py): "ops 0-3 in 8x8 patches"
    name: str = ""  # the op's name in the source model (its first output's, for a .tflite)


@dataclass(frozen=True)
class PatchStageRow:
    """A stage of the model run patch by patch: what it replaced, its tiling, its buffers and its recompute."""

    layer: int  # index of the stage's row in `layers`
    ops: tuple[int, ...]  # the original op indices it runs
    opcodes: tuple[str, ...]
    grid: tuple[int, int]  # tiles along rows, columns
    patch_buffer_bytes: tuple[int, int]  # the two ping-pong patch buffers (the stage's scratch holds them)
    macs: int  # of its ops run whole
    patched_macs: int  # executed patch by patch (overlapping patches recompute)

    @property
    def extra_macs(self) -> int:
        return self.patched_macs - self.macs

    @property
    def extra_percent(self) -> float:
        return 100.0 * self.extra_macs / self.macs if self.macs else 0.0


@dataclass(frozen=True)
class BufferRow:
    """One block of arena memory: where it sits and while which ops it is live."""

    id: int
    tensors: tuple[str, ...]  # tensor names stored in it (several when view ops alias)
    size_bytes: int  # unaligned
    first: int
    last: int
    region: str
    offset: int  # within the region's arena
    address: int  # region base + offset
    kind: str = "activation"  # "activation" | "input" | "output" | "state" | "scratch" (lifetimes.Buffer.kind)


@dataclass(frozen=True)
class RegionRow:
    """How much of one RAM region the activations use, and which planner laid it out."""

    name: str
    base: int
    size_bytes: int
    used_bytes: int
    planner: str | None  # None when no buffer went into the region
    proven_optimal: bool

    @property
    def headroom_bytes(self) -> int:
        return self.size_bytes - self.used_bytes

    @property
    def fits(self) -> bool:
        return self.used_bytes <= self.size_bytes


@dataclass(frozen=True)
class MemoryReport:
    """Everything `sapool plan` reports about one model on one target."""

    model: str
    target: str  # target name, or "budget" for a bare --ram-budget
    target_part: str | None
    ram_budget_bytes: int | None  # set when --ram-budget replaced the target's regions
    planner: str  # what the user asked for ("best", "greedy", …)
    alignment: int
    layers: tuple[LayerRow, ...]
    buffers: tuple[BufferRow, ...]
    regions: tuple[RegionRow, ...]
    lower_bound_bytes: int  # with the in-place ops in `layers` writing over their inputs
    split: bool  # activations spread over more than one region
    ram_fits: bool
    weights_bytes: int  # unique constant data (flash)
    flash_size_bytes: int | None  # None when there is no target to compare with
    elapsed_s: float
    notes: tuple[str, ...] = ()  # what the planners want the reader to know (e.g. the exact planner stepped aside)
    tensor_lower_bound_bytes: int | None = None  # the bound with every tensor in bytes of its own (no in-place,
    # no patches)
    unpatched_lower_bound_bytes: int | None = None  # the bound with in-place layers but no patch stage
    patch_stages: tuple[PatchStageRow, ...] = ()

    @property
    def peak_arena_bytes(self) -> int:
        """Activation RAM the plan needs: the sum of every region's arena."""
        return sum(region.used_bytes for region in self.regions)

    @property
    def extra_macs_percent(self) -> float:
        """The patch stages' recompute as a share of the model's MACs run without patches."""
        extra = sum(stage.extra_macs for stage in self.patch_stages)
        whole = sum(layer.macs for layer in self.layers) - extra
        return 100.0 * extra / whole if whole else 0.0

    @property
    def peak_layer(self) -> LayerRow | None:
        """The op with the most live bytes (the first one on ties): where the memory pressure is."""
        return max(self.layers, key=lambda layer: layer.live_bytes, default=None)

    @property
    def ram_capacity_bytes(self) -> int:
        return sum(region.size_bytes for region in self.regions)

    @property
    def ram_over_bytes(self) -> int:
        """How far the plan exceeds the RAM it was given (0 when it fits): the sum of every region's overflow."""
        return sum(max(0, -region.headroom_bytes) for region in self.regions) if not self.ram_fits else 0

    @property
    def flash_fits(self) -> bool | None:
        return None if self.flash_size_bytes is None else self.weights_bytes <= self.flash_size_bytes

    @property
    def fits(self) -> bool:
        return self.ram_fits and self.flash_fits is not False

    @property
    def proven_optimal(self) -> bool:
        """True when the arena is proven the smallest possible: one region, laid out optimally.

        A split placement is never claimed optimal: each region's layout may be optimal for the buffers it got,
        but the choice of which buffer goes where is a heuristic.
        """
        used = [region for region in self.regions if region.planner is not None]
        return len(used) == 1 and used[0].proven_optimal and not self.split

    @property
    def planners_used(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(region.planner for region in self.regions if region.planner))

    def verdict(self) -> str:
        """One line saying whether the model fits, and if not, where and by how much."""
        if self.fits:
            used = [region for region in self.regions if region.used_bytes > 0]
            where = " + ".join(region.name for region in used) or self.regions[0].name
            headroom = sum(region.headroom_bytes for region in used)
            return (
                f"fits: {self.peak_arena_bytes:,} B of activations in {where} "
                f"({headroom:,} B headroom there), {self.weights_bytes:,} B of weights in flash"
            )
        reasons = []
        if not self.ram_fits:
            peak = self.peak_layer
            where = f" at layer {peak.index} ({peak.op}, {peak.live_bytes:,} B live)" if peak else ""
            reasons.append(
                f"activations need {self.peak_arena_bytes:,} B{where}, "
                f"{self.ram_over_bytes:,} B over the {self.ram_capacity_bytes:,} B of RAM"
            )
        if self.flash_fits is False:
            reasons.append(
                f"weights need {self.weights_bytes:,} B of flash, "
                f"{self.weights_bytes - self.flash_size_bytes:,} B over the {self.flash_size_bytes:,} B available"
            )
        where = self.target
        if self.ram_budget_bytes is not None:
            where = f"the {self.ram_budget_bytes:,} B RAM budget" + (f" on {self.target}" if self.target_part else "")
        return f"{self.model} does not fit {where}: " + "; ".join(reasons)


def to_dict(report: MemoryReport) -> dict:
    """The JSON document (schema_version 1). Keys listed in DESIGN §6 are stable; the rest may grow."""
    peak = report.peak_layer
    return {
        "schema_version": SCHEMA_VERSION,
        "model": report.model,
        "target": report.target,
        "target_part": report.target_part,
        "ram_budget_bytes": report.ram_budget_bytes,
        "planner": report.planner,
        "planners_used": list(report.planners_used),
        "proven_optimal": report.proven_optimal,
        "alignment": report.alignment,
        "peak_arena_bytes": report.peak_arena_bytes,
        "peak_live_bytes": peak.live_bytes if peak else 0,
        "peak_layer": peak.index if peak else None,
        "lower_bound_bytes": report.lower_bound_bytes,
        "tensor_lower_bound_bytes": report.tensor_lower_bound_bytes,
        "unpatched_lower_bound_bytes": report.unpatched_lower_bound_bytes,
        "extra_macs_percent": round(report.extra_macs_percent, 2),
        "in_place_layers": [layer.index for layer in report.layers if layer.in_place],
        "patch_stages": [
            {"layer": stage.layer, "ops": list(stage.ops), "opcodes": list(stage.opcodes), "grid": list(stage.grid),
             "patch_buffer_bytes": list(stage.patch_buffer_bytes), "macs": stage.macs,
             "patched_macs": stage.patched_macs, "extra_macs": stage.extra_macs,
             "extra_percent": round(stage.extra_percent, 2)}
            for stage in report.patch_stages
        ],
        "fits": report.fits,
        "ram_fits": report.ram_fits,
        "ram_over_bytes": report.ram_over_bytes,
        "split": report.split,
        "verdict": report.verdict(),
        "flash": {
            "weights_bytes": report.weights_bytes,
            "size_bytes": report.flash_size_bytes,
            "fits": report.flash_fits,
        },
        "regions": [
            {
                "name": region.name,
                "base": region.base,
                "size_bytes": region.size_bytes,
                "used_bytes": region.used_bytes,
                "headroom_bytes": region.headroom_bytes,
                "planner": region.planner,
                "proven_optimal": region.proven_optimal,
            }
            for region in report.regions
        ],
        "layers": [
            {
                "index": layer.index,
                "op": layer.op,
                "name": layer.name,
                "output_shape": list(layer.output_shape),
                "output_bytes": layer.output_bytes,
                "weight_bytes": layer.weight_bytes,
                "macs": layer.macs,
                "live_bytes": layer.live_bytes,
                "output_buffers": list(layer.output_buffers),
                "in_place": layer.in_place,
                "patches": layer.patches,
            }
            for layer in report.layers
        ],
        "buffers": [
            {
                "id": buffer.id,
                "kind": buffer.kind,
                "tensors": list(buffer.tensors),
                "size_bytes": buffer.size_bytes,
                "first": buffer.first,
                "last": buffer.last,
                "region": buffer.region,
                "offset": buffer.offset,
                "address": buffer.address,
            }
            for buffer in report.buffers
        ],
        "notes": list(report.notes),
        "peak_tensors": [
            {"tensors": list(buffer.tensors), "size_bytes": buffer.size_bytes, "kind": buffer.kind,
             "region": buffer.region, "offset": buffer.offset}
            for buffer in peak_buffers(report)
        ],
        "suggestions": suggestions(report),
        "elapsed_s": round(report.elapsed_s, 4),
    }


def to_json(report: MemoryReport) -> str:
    return strict_json(to_dict(report)) + "\n"
