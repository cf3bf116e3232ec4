"""Build a project for the QEMU board of its target's core and run it: the firmware half of `sapool emulate`.

The project's own sources are compiled unchanged; only the linker script differs: the target's RAM regions (or
the `--ram-budget` region) are laid out in the QEMU board's RAM with their real sizes (memory_map.emulator_map),
so an arena that does not fit the part fails to link here too. On the mps2/mps3 boards the QEMU harness image
runs (console on the CMSDK UART, inputs loaded into memory by QEMU: no semihosting); on an emulated STM32 SoC (netduinoplus2) the board's own
standalone image runs, with the inputs compiled in and its records read from the UART (firmware/board_run.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sapool.firmware.board_image import samples_source
from sapool.firmware.board_run import run_board_image
from sapool.firmware.boards import load_board
from sapool.firmware.build import build_firmware
from sapool.firmware.elf import ElfSizes, read_sizes
from sapool.firmware.emulator import RunResult, qemu_board, run_firmware
from sapool.firmware.memory_map import board_image_map, emulator_map
from sapool.firmware.project import render_linker_script
from sapool.firmware.stack_bound import StackBound, stack_bound
from sapool.targets import Region, Target


@dataclass(frozen=True)
class EmulationRun:
    board: Target  # the QEMU board it ran on
    sizes: ElfSizes
    run: RunResult
    stack: StackBound  # the model's worst-case stack, from the build's call graph (predicted, not measured)
    elf: Path


def runs_board_image(board: Target) -> bool:
    """True for a QEMU board that runs the real board's standalone image (an emulated SoC with the board's UART),
    False for the mps2/mps3 boards, which run the UART harness."""
    return bool(load_board(board.name).board_sources)


def build_for_emulation(project_dir: Path, target: Target, arena_regions: Sequence[Region], work_dir: Path,
                        *, inputs: Sequence[bytes] = ()) -> Path:
    """Compile `project_dir` into `work_dir`/build with the QEMU memory map; returns the ELF. A board image gets
    `inputs` compiled in (the harness reads them at run time)."""
    board = qemu_board(target)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    linker_script = work_dir / "qemu.ld"
    image = runs_board_image(board)
    memory_map = board_image_map(target, board, arena_regions) if image else emulator_map(target, board, arena_regions)
    linker_script.write_text(render_linker_script(load_board(target.name), target, memory_map))
    if not image:
        return build_firmware(project_dir, work_dir / "build", linker_script=linker_script, image="harness")
    samples = work_dir / "samples.c"
    samples.write_text(samples_source(inputs))
    return build_firmware(project_dir, work_dir / "build", linker_script=linker_script, image="board",
                          samples=samples)


def emulate_project(
    project_dir: Path, target: Target, arena_regions: Sequence[Region], inputs: list[bytes], work_dir: Path,
) -> EmulationRun:
    """Build, then run every input; outputs, instruction counts and stack come back in the EmulationRun."""
    elf = build_for_emulation(project_dir, target, arena_regions, work_dir, inputs=inputs)
    board = qemu_board(target)
    if runs_board_image(board):
        run = run_board_image(elf, board, len(inputs))
    else:
        run_dir = Path(work_dir) / "run"
        run_dir.mkdir(exist_ok=True)
        run = run_firmware(elf, board, inputs, run_dir)
    return EmulationRun(board, read_sizes(elf), run, stack_bound(elf.parent), elf)
