"""Every graph rewrite sapool makes before planning, in order, as named passes (like pipeline.py's STEPS).

    fold-pad          a PAD before a convolution or int8 max pool becomes the op's padding  (fold_pad.py)
    drop-noop-moves   TRANSPOSE/view chains that end where they started are removed        (drop_moves.py)
    fc-as-conv        FULLY_CONNECTED as RESHAPE → 1×1 CONV_2D → RESHAPE, with rounding "tflm" (fc_as_conv.py)
    fuse-lookup       a region of int8 elementwise ops as one 256-entry table              (fuse_lookup.py)
    fuse-window-pool  SAP's window softmax pooling as one kernel                           (fuse_window.py)
    fuse-attention    BATCH_MATMUL → SOFTMAX → BATCH_MATMUL as one row-by-row kernel       (fuse_attention.py)
    patch-stage       the memory-dominant early stage run patch by patch, with patches "auto" (patch_choice.py)

Each pass maps a Graph to a Graph and is bit-exact: the rewritten graph computes, in sapool's kernels, what the
model computes in TFLite's reference kernels (fc-as-conv: what it computes in TFLite-Micro). The float-side folds
(a separate bias ADD, a BatchNorm after a conv or linear layer) happen before quantisation instead
(quantize/fold_affine.py): on an int8 graph they would change the rounding.

Passes import nothing above memory/: what only the backend knows (how many bytes a candidate graph keeps live,
kernel scratch and in-place layers included; whether its kernels run a patch stage) comes in as `KernelFacts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sapool.errors import BadInputError
from sapool.ir.graph import Graph, Op
from sapool.passes.drop_moves import drop_noop_moves
from sapool.passes.fc_as_conv import fully_connected_as_conv
from sapool.passes.fold_pad import fold_pad
from sapool.passes.fuse_attention import fuse_attention
from sapool.passes.fuse_lookup import fuse_lookup_regions
from sapool.passes.fuse_window import fuse_window_pools
from sapool.passes.patch_choice import choose_patches
from sapool.passes.patches import stages

PATCH_MODES = ("auto", "off")
ROUNDING_MODES = ("tflm", "tflite")


@dataclass(frozen=True)
class PassOptions:
    """What a user chooses: a patch stage where it lowers the peak ("auto") or never ("off"); which interpreter's
    FULLY_CONNECTED rounding the firmware matches ("tflm": TFLite-Micro, what MCUs run; "tflite": LiteRT)."""

    patches: str = "auto"
    rounding: str = "tflm"

    def __post_init__(self) -> None:
        if self.patches not in PATCH_MODES:
            raise BadInputError(f"unknown patches mode '{self.patches}'; choose one of: {', '.join(PATCH_MODES)}")
        if self.rounding not in ROUNDING_MODES:
            raise BadInputError(f"unknown rounding '{self.rounding}'; choose one of: {', '.join(ROUNDING_MODES)}")


@dataclass(frozen=True)
class KernelFacts:
    """What the backend's kernels decide about a graph (the backend fills these in; passes never import it)."""

    live_bytes: Callable[[Graph], Sequence[int]]  # bytes live during each op, as the planner will count them
    runs_stage: Callable[[Graph, Op], bool] = field(default=lambda graph, stage: True)  # kernels take the stage


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Graph, PassOptions, KernelFacts], Graph]


@dataclass(frozen=True)
class PassEffect:
    """One pass's change: ops, and the most bytes live at once (memory.lifetimes, before the planner places them)."""

    name: str
    ops_before: int
    ops_after: int
    live_peak_before: int
    live_peak_after: int

    def to_json(self) -> dict:
        return dict(vars(self))


def _patch_stage(graph: Graph, options: PassOptions, facts: KernelFacts) -> Graph:
    """The best patch stage (patch_choice.py), kept only where the kernels run every stage op bit-exactly."""
    if options.patches == "off":
        return graph
    patched = choose_patches(graph, facts.live_bytes).graph
    return patched if all(facts.runs_stage(patched, stage) for stage in stages(patched)) else graph


PASSES: tuple[Pass, ...] = (
    Pass("fold-pad", lambda graph, options, facts: fold_pad(graph)),
    Pass("drop-noop-moves", lambda graph, options, facts: drop_noop_moves(graph)),
    Pass("fc-as-conv", lambda graph, options, facts: (fully_connected_as_conv(graph) if options.rounding == "tflm"
                                                      else graph)),
    Pass("fuse-lookup", lambda graph, options, facts: fuse_lookup_regions(graph)),
    Pass("fuse-window-pool", lambda graph, options, facts: fuse_window_pools(graph)),
    Pass("fuse-attention", lambda graph, options, facts: fuse_attention(graph)),
    Pass("patch-stage", _patch_stage),
)
FUSIONS = ("fuse-lookup", "fuse-window-pool", "fuse-attention")


def run_passes(graph: Graph, options: PassOptions, facts: KernelFacts, *, only: Sequence[str] | None = None,
               measure: bool = False) -> tuple[Graph, tuple[PassEffect, ...]]:
    """(`graph` after every pass in PASSES order — or those named in `only` —, each pass's effect when `measure`)."""
    effects = []
    for step in PASSES:
        if only is not None and step.name not in only:
            continue
        before = graph
        graph = step.run(graph, options, facts)
        if measure:
            effects.append(PassEffect(step.name, len(before.ops), len(graph.ops),
                                      max(facts.live_bytes(before), default=0), max(facts.live_bytes(graph), default=0)))
    return graph, tuple(effects)
