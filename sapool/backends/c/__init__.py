"""The native C backend: int8 graphs compiled to plain C kernel calls over statically planned arenas.

See generate.py for the steps (fuse_for_c, check_supported, scratch_needs, generate) and host.py for building
and running the result on the host for verification. The graph the backend runs is `prepare_for_c(graph)` (prepare.py:
fuse.py's op chains that run as one kernel, and a patch-based early stage where it lowers the peak); plan and
generate that graph.
"""

from sapool.backends.c.fuse import fuse_for_c
from sapool.backends.c.generate import check_supported, generate, scratch_needs
from sapool.backends.c.prepare import PATCH_MODES, patch_scratch, prepare_for_c

__all__ = ["PATCH_MODES", "check_supported", "fuse_for_c", "generate", "patch_scratch", "prepare_for_c",
           "scratch_needs"]
