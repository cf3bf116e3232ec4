"""Latency at the board's clock: one inference traced in QEMU, its instructions costed by the cycle model.

QEMU counts instructions; the target's core (e.g. an STM32H743's Cortex-M7) runs them in a number of cycles that
depends on what they are. `measure_latency` runs the project's firmware once more, on one input, with QEMU's block
trace (instruction_trace), costs each layer's instructions for the *target's* core (cycle_model) and divides by
the target's rated clock. A harness image already built for the QEMU board is reused; a board image (an emulated
SoC such as netduinoplus2) compiles its inputs in, so it is built again with the one input. The assumptions travel
with the figure (`assumptions`); the board firmware's DWT cycle count on real hardware is what checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sapool.firmware.board_run import run_board_image
from sapool.firmware.cycle_model import ASSUMPTIONS, costs_for
from sapool.firmware.emulation import build_for_emulation, runs_board_image
from sapool.firmware.emulator import qemu_board, run_firmware
from sapool.firmware.instruction_trace import HOOKS, layer_mixes, symbol_addresses
from sapool.targets import Region, Target


@dataclass(frozen=True)
class Latency:
    core: str
    clock_hz: int
    cycles: int  # per inference, the layers only (sapool_model_invoke's own few instructions aside)
    layer_cycles: tuple[int, ...]
    layer_classes: tuple[dict, ...]  # executed instructions by class, per layer
    assumptions: str = ASSUMPTIONS

    @property
    def ms(self) -> float:
        return self.cycles / self.clock_hz * 1000

    def layer_ms(self, index: int) -> float:
        return self.layer_cycles[index] / self.clock_hz * 1000

    def to_dict(self) -> dict:
        return {"core": self.core, "clock_hz": self.clock_hz, "cycles": self.cycles, "ms": round(self.ms, 3),
                "layer_cycles": list(self.layer_cycles), "layer_classes": [dict(c) for c in self.layer_classes],
                "assumptions": self.assumptions}


def measure_latency(project_dir: Path, target: Target, regions: Sequence[Region], first_input: bytes, layers: int,
                    work_dir: Path, *, harness_elf: Path | None = None) -> Latency:
    """Trace one inference of the project at `project_dir` on the QEMU board of `target`'s core and cost it for
    `target`'s core and clock. `harness_elf`: the project already built for that QEMU board (a harness image)."""
    board = qemu_board(target)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    image = runs_board_image(board)
    elf = harness_elf
    if elf is None or image:
        elf = build_for_emulation(project_dir, target, regions, work_dir, inputs=[first_input] if image else ())
    log = work_dir / "trace.log"
    try:
        if image:
            run_board_image(elf, board, 1, trace_log=log)
        else:
            run_firmware(elf, board, [first_input], work_dir, trace_log=log)
        mixes = layer_mixes(log, symbol_addresses(elf, HOOKS), layers, costs_for(target.core))
    finally:
        log.unlink(missing_ok=True)
    return Latency(target.core, target.clock_hz, round(sum(mix.cycles for mix in mixes)),
                   tuple(round(mix.cycles) for mix in mixes), tuple(dict(mix.classes) for mix in mixes))
