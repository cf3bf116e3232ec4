"""The graph the native C backend runs, from the model's: the one pre-planning rewrite `sapool plan` and
`sapool compile` share, so the plan a report shows is the plan the generated code uses.

Rewrites, in order: passes.fold_pad (a PAD before a convolution or max pool becomes its padding),
passes.drop_moves (transposes and views that undo themselves), fuse.fuse_for_c (op chains run as one kernel, e.g. attention) and, with patches "auto", memory.patch_choice (the memory-dominant early stage run patch by patch, when that lowers the peak). The patch
choice is scored with the backend's own scratch needs (patch buffers and kernel scratch), whichever command
asks, so both commands make the same choice.
"""

from __future__ import annotations

from sapool.backends.c.registry import lowering_for, scratch_needs
from sapool.errors import BadInputError, UnsupportedError
from sapool.ir.graph import Graph
from sapool.memory.patches import stages
from sapool.passes.drop_moves import drop_noop_moves
from sapool.passes.fold_pad import fold_pad
from sapool.passes.fuse_attention import fuse_for_c

PATCH_MODES = ("auto", "off")


def prepare_for_c(graph: Graph, patches: str = "auto") -> Graph:
    """`graph` as the C backend runs it: fused, and with a patch stage where `patches` is "auto" and one lowers
    the activation peak ("off": never)."""
    if patches not in PATCH_MODES:
        raise BadInputError(f"unknown patches mode '{patches}'; choose one of: {', '.join(PATCH_MODES)}")
    graph = fuse_for_c(drop_noop_moves(fold_pad(graph)))
    if patches == "off":
        return graph
    from sapool.memory.patch_choice import choose_patches

    patched = choose_patches(graph, scratch_needs).graph
    if not any(tensor.quantization for tensor in graph.tensors):
        # an unquantised estimate (models.footprint) has shapes only: the stage is kept as the export's would be;
        # the kernels' quantisation checks run on the export itself
        return patched
    try:
        for stage in stages(patched):
            lowering_for(stage.opcode).check(patched, stage)
    except UnsupportedError:
        return graph  # a stage op the kernels cannot run bit-exactly: keep the ops whole
    return patched
