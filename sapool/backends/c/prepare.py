"""The graph the native C backend runs, from the model's: sapool.passes' pipeline with this backend's kernel facts.

Every command plans through sapool.planning, which calls `prepare_for_c`, so the plan a report shows is the plan the
generated code uses. The facts the passes need from the kernels: how many bytes a candidate graph keeps live (the
kernels' scratch and in-place layers included: the patch stage is chosen by it), and whether the kernels run each
op of a patch stage bit-exactly (an op they refuse keeps the stage from being taken).
"""

from __future__ import annotations

from sapool.backends.c.registry import lowering_for, scratch_needs
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.passes.pipeline import FUSIONS, PATCH_MODES, ROUNDING_MODES, KernelFacts, PassOptions, run_passes

__all__ = ["PATCH_MODES", "ROUNDING_MODES", "c_kernel_facts", "fuse_for_c", "prepare_for_c"]
ALIGNMENT = 16


def prepare_for_c(graph: Graph, patches: str = "auto", rounding: str = "tflm") -> Graph:
    """`graph` as the C backend runs it: every pass of sapool.passes.PASSES with these options."""
    return run_passes(graph, PassOptions(patches, rounding), c_kernel_facts())[0]


def fuse_for_c(graph: Graph) -> Graph:
    """`graph` with the fusions alone (lookup regions, window pools, attention), for tests of those kernels."""
    return run_passes(graph, PassOptions(), c_kernel_facts(), only=FUSIONS)[0]


def c_kernel_facts() -> KernelFacts:
    return KernelFacts(live_bytes=_live_bytes, runs_stage=_runs_stage)


def _live_bytes(graph: Graph) -> list[int]:
    from sapool.memory.lifetimes import compute_lifetimes, live_bytes_per_op

    buffers = compute_lifetimes(graph, in_place=True, scratch=scratch_needs(graph))
    return live_bytes_per_op(buffers, len(graph.ops), ALIGNMENT)


def _runs_stage(graph: Graph, stage: Op) -> bool:
    """An unquantised estimate (models.footprint) has shapes only: its stage is kept as the export's would be (the
    kernels' quantisation checks run on the export itself)."""
    if not any(tensor.quantization for tensor in graph.tensors):
        return True
    try:
        lowering_for(stage.opcode).check(graph, stage)
    except UnsupportedError:
        return False
    return True
