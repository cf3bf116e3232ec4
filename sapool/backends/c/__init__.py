"""The native C backend: int8 graphs compiled to plain C kernel calls over statically planned arenas.

See generate.py for the three steps (check_supported, scratch_needs, generate) and host.py for building and
running the result on the host for verification.
"""

from sapool.backends.c.generate import check_supported, generate, scratch_needs

__all__ = ["check_supported", "generate", "scratch_needs"]
