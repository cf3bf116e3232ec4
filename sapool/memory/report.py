"""The memory report as plain data, and its JSON form (DESIGN §6).

analyze.py fills a MemoryReport from a model and a target; render_text / render_html and `to_json` only read it.
Keeping the numbers in one frozen structure means the three output formats cannot disagree with each other.
Sizes are bytes; `offset` is relative to the start of the buffer's region, `address` is absolute.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    patches: str = ""  # for a patch stage (passes/patches.py): "ops 0-3 in 8x8 patches"
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
    source_kind: str = "tflite-int8"  # the front end the model came through (frontends.loaded): advice is worded
    # for it (a sapool checkpoint can be pruned by sapool; a .pt2 or .onnx model is changed in its own code)

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

    def overshoot(self) -> str:
        """How far over, worded against what it was measured on: each overflowing region (or the budget)."""
        over = [region for region in self.regions if not region.fits]
        return ", ".join(f"{-region.headroom_bytes:,} B over the {region.size_bytes:,} B of "
                         + ("the budget" if self.ram_budget_bytes is not None else region.name) for region in over)

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
            reasons.append(f"activations need {self.peak_arena_bytes:,} B{where}, {self.overshoot()}")
        if self.flash_fits is False:
            reasons.append(
                f"weights need {self.weights_bytes:,} B of flash, "
                f"{self.weights_bytes - self.flash_size_bytes:,} B over the {self.flash_size_bytes:,} B available"
            )
        where = self.target
        if self.ram_budget_bytes is not None:
            where = f"the {self.ram_budget_bytes:,} B RAM budget" + (f" on {self.target}" if self.target_part else "")
        return f"{self.model} does not fit {where}: " + "; ".join(reasons)
