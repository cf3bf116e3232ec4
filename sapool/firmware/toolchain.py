"""Find the external tools the firmware needs: make, arm-none-eabi-gcc with newlib, qemu-system-arm.

A missing tool is a MissingToolError (exit code 3) carrying the one apt command that installs all of them, found
up front so that no half-built project is left behind.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from sapool.errors import MissingToolError

APT_INSTALL = "apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
COMPILER = "arm-none-eabi-gcc"
EMULATOR = "qemu-system-arm"


def require_tool(name: str) -> Path:
    """The full path of program `name` on PATH."""
    found = shutil.which(name)
    if found is None:
        raise MissingToolError(f"{name} not found on PATH; install it with: {_install_hint(name)}")
    return Path(found)


def require_build_tools() -> None:
    """make, the cross compiler and newlib-nano (which the firmware links for memcpy/memset)."""
    require_tool("make")
    compiler = require_tool(COMPILER)
    if not _has_newlib_nano(str(compiler)):
        raise MissingToolError(f"{COMPILER} has no newlib (libc_nano.a); install it with: {APT_INSTALL}")


def require_emulator() -> Path:
    return require_tool(EMULATOR)


@functools.cache
def _has_newlib_nano(compiler: str) -> bool:
    answer = subprocess.run(
        [compiler, "-mthumb", "-mcpu=cortex-m4", "-print-file-name=libc_nano.a"],
        capture_output=True, text=True, check=False,
    )
    return answer.returncode == 0 and Path(answer.stdout.strip()).is_file()


def _install_hint(name: str) -> str:
    return "apt-get install -y make" if name == "make" else APT_INSTALL
