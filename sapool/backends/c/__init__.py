"""The native C backend: int8 graphs compiled to plain C kernel calls over statically planned arenas.

The steps: `prepare_for_c(graph)` (prepare.py: the passes' op chains that run as one kernel, and a patch-based
early stage where it lowers the peak) gives the graph the backend runs; `check_supported` (generate.py) refuses
what it cannot run; the plan places that graph with the kernel scratch `scratch_needs` (registry.py) declares;
`generate` (generate.py) writes the sources from the plan. host.py builds and runs the result on the host for
verification.
"""

from sapool.backends.c.generate import ModelInfo, check_supported, generate
from sapool.backends.c.prepare import PATCH_MODES, ROUNDING_MODES, fuse_for_c, prepare_for_c
from sapool.backends.c.registry import scratch_needs

__all__ = ["PATCH_MODES", "ROUNDING_MODES", "ModelInfo", "check_supported", "fuse_for_c", "generate",
           "prepare_for_c", "scratch_needs"]
