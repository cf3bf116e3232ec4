"""The portable C kernels sapool's native backend ships (package data, C99).

`include/` holds the one kernel header (sapool_kernels.h) and the fixed-point helpers (sapool_quant.h);
`reference/` holds one portable .c file per kernel family. Generated projects get copies of the files they use.
"""

from importlib import resources

HEADERS = ("include/sapool_kernels.h", "include/sapool_quant.h")


def kernel_file(relative_path: str) -> str:
    """The text of a shipped kernel file, e.g. `reference/conv.c` or `include/sapool_quant.h`."""
    return resources.files(__package__).joinpath(relative_path).read_text(encoding="utf-8")
