"""Build a project for the QEMU board of its target's core and run it: the firmware half of `sapool emulate`.

The project's own sources are compiled unchanged; only the linker script differs: the target's RAM regions (or
the `--ram-budget` region) are laid out in the QEMU board's RAM with their real sizes (memory_map.emulator_map),
so an arena that does not fit the part fails to link here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sapool.firmware.boards import load_board
from sapool.firmware.build import build_firmware
from sapool.firmware.elf import ElfSizes, read_sizes
from sapool.firmware.emulator import RunResult, qemu_board, run_firmware
from sapool.firmware.memory_map import emulator_map
from sapool.firmware.project import render_linker_script
from sapool.firmware.stack_bound import StackBound, stack_bound
from sapool.targets import Region, Target


@dataclass(frozen=True)
class EmulationRun:
    board: Target  # the QEMU board it ran on
    sizes: ElfSizes
    run: RunResult
    stack: StackBound  # the model's worst-case stack, from the build's call graph (predicted, not measured)


def build_for_emulation(project_dir: Path, target: Target, arena_regions: Sequence[Region], work_dir: Path) -> Path:
    """Compile `project_dir` into `work_dir`/build with the QEMU memory map; returns the ELF."""
    board = qemu_board(target)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    linker_script = work_dir / "qemu.ld"
    memory_map = emulator_map(target, board, arena_regions)
    linker_script.write_text(render_linker_script(load_board(target.name), target, memory_map))
    return build_firmware(project_dir, work_dir / "build", linker_script=linker_script)


def emulate_project(
    project_dir: Path, target: Target, arena_regions: Sequence[Region], inputs: list[bytes], work_dir: Path,
) -> EmulationRun:
    """Build, then run every input; outputs, instruction counts and stack come back in the EmulationRun."""
    elf = build_for_emulation(project_dir, target, arena_regions, work_dir)
    board = qemu_board(target)
    run_dir = Path(work_dir) / "run"
    run_dir.mkdir(exist_ok=True)
    return EmulationRun(board, read_sizes(elf), run_firmware(elf, board, inputs, run_dir), stack_bound(elf.parent))
