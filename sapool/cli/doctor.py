"""`sapool doctor`: is everything sapool uses installed? One line per piece, with the command that fixes it.

Checks the Python packages sapool depends on (at pyproject.toml's pins, core and the `ml` extra), the Arm
toolchain and QEMU (firmware and emulation), and the Fashion-MNIST data set (training). Exits 3 when something
is missing, so scripts and CI can run it first. Nothing is imported: packages are looked up in the installed
metadata, tools on PATH, so the check is fast and cannot crash on a broken package.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from dataclasses import asdict, dataclass

import click
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from sapool.cli.conventions import chosen_format, emit, emit_json, format_option, output_option, verbosity_options
from sapool.errors import MissingToolError

APT_FIX = "sudo apt-get install -y --no-install-recommends"
TOOLS = (  # executable, what needs it, Debian packages
    ("arm-none-eabi-gcc", "compile/emulate (firmware build)", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
    ("qemu-system-arm", "emulate (runs the firmware)", "qemu-system-arm"),
)


@dataclass(frozen=True)
class Check:
    name: str
    needed_for: str
    found: str | None  # the version or path found; None when missing
    fix: str | None  # the command that installs it; None when fine

    @property
    def ok(self) -> bool:
        return self.fix is None


@click.command("doctor")
@format_option()
@output_option()
@verbosity_options
def doctor(output_format: str, as_json: bool, output, quiet: bool, verbose: bool) -> None:
    """Check Python packages, the Arm toolchain, QEMU and the data set; print the fix for anything missing."""
    checks = [*python_checks(), *tool_checks(), dataset_check()]
    if chosen_format(output_format, as_json) == "json":
        emit_json({"schema_version": 1, "ok": all(c.ok for c in checks),
                   "checks": [{**asdict(c), "ok": c.ok} for c in checks]}, output, "doctor JSON")
    else:
        lines = [_line(c) for c in checks if verbose or not quiet or not c.ok]
        emit("\n".join(lines) + ("\n" if lines else ""), output, "doctor report")
    missing = [c.name for c in checks if not c.ok]
    if missing:
        raise MissingToolError(f"missing or wrong version: {', '.join(missing)} (the fix is listed for each)")


def python_checks() -> list[Check]:
    """sapool's own pinned requirements (core and the `ml` extra) against what is installed."""
    try:
        requirements = importlib.metadata.requires("sapool") or []
    except importlib.metadata.PackageNotFoundError:
        return [Check("sapool", "everything", None, "pip install -e . (from the sapool checkout)")]
    checks = []
    for requirement in requirements:
        found = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*extra\s*==\s*\"(\w+)\")?$",
                         requirement)
        if found is None or found.group(3) not in (None, "ml"):
            continue
        name, spec, extra = found.groups()
        needed_for = "train/prune/eval/compile" if extra == "ml" else "every command"
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        fine = version is not None and SpecifierSet(spec).contains(Version(version).public, prereleases=True)
        checks.append(Check(name, needed_for, version, None if fine else f"pip install '{name}{spec}'"))
    return checks


def tool_checks() -> list[Check]:
    checks = []
    for executable, needed_for, packages in TOOLS:
        path = shutil.which(executable)
        checks.append(Check(executable, needed_for, path, None if path else f"{APT_FIX} {packages}"))
    return checks


def dataset_check() -> Check:
    from sapool.data import FASHION_MNIST_DIR

    present = FASHION_MNIST_DIR.is_dir() and any(FASHION_MNIST_DIR.glob("*-idx*-ubyte.gz"))
    return Check("fashion-mnist", "train/eval on the default data", str(FASHION_MNIST_DIR) if present else None,
                 None if present else f"{APT_FIX} dataset-fashion-mnist")


def _line(check: Check) -> str:
    state = "ok     " if check.ok else "MISSING"
    text = f"{state} {check.name:<20} {check.found or '-':<40} ({check.needed_for})"
    return text if check.ok else f"{text}\n        fix: {check.fix}"
