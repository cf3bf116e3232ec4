"""The native C backend: int8 graphs compiled to plain C kernel calls over statically planned arenas.

See generate.py for the steps (fuse_for_c, check_supported, scratch_needs, generate) and host.py for building
and running the result on the host for verification. The graph the backend runs is `fuse_for_c(graph)` (fuse.py:
op chains that run as one kernel); plan and generate that graph.
"""

from sapool.backends.c.fuse import fuse_for_c
from sapool.backends.c.generate import check_supported, generate, scratch_needs

__all__ = ["check_supported", "fuse_for_c", "generate", "scratch_needs"]
