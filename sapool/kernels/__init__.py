"""The C kernels sapool's native backend ships (package data, C99).

`include/` holds the one kernel header (sapool_kernels.h) and the fixed-point helpers (sapool_quant.h);
`reference/` holds one portable .c file per kernel family; `arm/` holds ACLE SIMD twins of some of them, under the
same file and function names, for cores with the DSP extension. Generated projects get copies of the files they
use; which of the two sets is compiled is a build-time choice (the firmware Makefile's KERNELS variable).
"""

from importlib import resources

HEADERS = ("include/sapool_kernels.h", "include/sapool_quant.h", "include/sapool_broadcast.h")
ARM_HEADERS = ("arm/sapool_arm.h", "arm/sapool_arm_dot.h", "arm/sapool_arm_gather.h")
KERNEL_SETS = ("arm", "reference")
# Cores whose Thumb-2 has the DSP extension (__ARM_FEATURE_DSP: SMLAD, SXTB16, SSAT...), which arm/ needs.
DSP_CORES = frozenset({"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"})


def kernel_file(relative_path: str) -> str:
    """The text of a shipped kernel file, e.g. `reference/conv.c` or `include/sapool_quant.h`."""
    return resources.files(__package__).joinpath(relative_path).read_text(encoding="utf-8")


def arm_twin(reference_path: str) -> str | None:
    """`arm/<name>.c` when the portable kernel `reference/<name>.c` has an optimised twin, else None."""
    folder, _, name = reference_path.partition("/")
    if folder != "reference":
        return None
    twin = f"arm/{name}"
    return twin if resources.files(__package__).joinpath(twin).is_file() else None


def kernels_for_core(core: str) -> str:
    """The kernel set a firmware for `core` compiles by default: "arm" with the DSP extension, else "reference"."""
    return "arm" if core.lower() in DSP_CORES else "reference"
