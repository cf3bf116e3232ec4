"""Run `make` on a firmware project; turn a link overflow into a DoesNotFitError naming the region and bytes.

ld reports a plan that does not fit as "region `DTCM' overflowed by 1234 bytes" (one line per region); that is
the message users need, so it is lifted out of the compiler output verbatim. Anything else that fails is a
BuildError with the tail of the output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sapool.errors import BuildError, DoesNotFitError
from sapool.firmware.memory_map import SYSTEM_REGION
from sapool.firmware.toolchain import require_build_tools

ELF_NAME = "firmware.elf"
DEFAULT_BUILD_DIR = "build"  # the Makefile's own default
_OVERFLOW = re.compile(r"region `([^']+)' overflowed by (\d+) bytes")
_UNPLANNED = "sapool: an arena section has no MEMORY region here"
_TAIL_LINES = 20
_ROLE = {SYSTEM_REGION: " (the firmware's own stack and static data)", "FLASH": " (code and weights)"}


def build_firmware(
    project_dir: Path, build_dir: Path | None = None, *, linker_script: Path | None = None, jobs: int = 2,
    image: str | None = None, samples: Path | None = None,
) -> Path:
    """Build `project_dir` into `build_dir` (default: its own build/ folder, as a user's `make` does; otherwise
    the project itself is not written to); returns the ELF's path. `image` ("board" or "harness") overrides the
    image the project's Makefile builds by default, and `samples` the board image's compiled-in inputs (a
    samples.c)."""
    require_build_tools()
    if build_dir is None:
        make_build, build_dir = DEFAULT_BUILD_DIR, Path(project_dir) / DEFAULT_BUILD_DIR
    else:
        build_dir = Path(build_dir).resolve()
        make_build = str(build_dir)
    command = ["make", "-C", str(project_dir), f"BUILD={make_build}", f"-j{jobs}"]
    if linker_script is not None:
        command.append(f"LDSCRIPT={Path(linker_script).resolve()}")
    if image is not None:
        command.append(f"IMAGE={image}")
    if samples is not None:
        command.append(f"SAMPLES={Path(samples).resolve()}")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise _build_failure(result.stdout + result.stderr)
    return build_dir / ELF_NAME


def overflowed_regions(output: str) -> dict[str, int]:
    """Region name -> bytes over, for every overflow ld reported in `output`."""
    return {name: int(over) for name, over in _OVERFLOW.findall(output)}


def _build_failure(output: str) -> Exception:
    overflows = overflowed_regions(output)
    if overflows:
        detail = "; ".join(f"region {name}{_ROLE.get(name, '')} overflowed by {over} bytes"
                           for name, over in overflows.items())
        return DoesNotFitError(f"the firmware does not fit: {detail} (at link time)")
    if _UNPLANNED in output:
        return BuildError("the model's arenas were planned for other RAM regions than this linker script has "
                          "(generate the model again for this target or budget)")
    tail = "\n".join(output.strip().splitlines()[-_TAIL_LINES:])
    return BuildError(f"firmware build failed:\n{tail}")
