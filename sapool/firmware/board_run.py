"""Run a standalone board image on an emulated STM32 SoC and read what it printed on its UART.

The image (sapool/boards/_common/board_main.c) is the one a user flashes: no semihosting, inputs compiled in,
records on the debug UART. QEMU's `netduinoplus2` (STM32F405) models ST's USART, so the stm32f4 image runs there
unchanged; its clock code finds no clock controller, falls back to HSI and says so. The run has no exit: the image
loops forever after its `done` line, so QEMU is stopped once that line arrives. With `-icount shift=0` SysTick,
which QEMU clocks at the SoC's SYSCLK, converts to instructions as in the harness (firmware/emulator.py).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from sapool.errors import BuildError, VerificationError
from sapool.firmware.emulator import SANDBOX, LayerCount, RunResult
from sapool.firmware.instruction_trace import TRACE_FLAGS
from sapool.firmware.toolchain import require_emulator
from sapool.targets import Target

BOARD_PROTOCOL = "1"
NANOSECONDS_PER_SECOND = 1_000_000_000
# Which -serial the board's console UART is: QEMU hands its serial ports to the SoC's USARTs in order
# (stm32f405_soc: USART1, USART2, ...), and the stm32f4 image writes to USART2.
CONSOLE_SERIAL = {"netduinoplus2": 1}


def run_board_image(elf: Path, board: Target, expected_inputs: int, *, timeout_s: float = 300,
                    trace_log: Path | None = None) -> RunResult:
    """Run `elf` on the QEMU `board` until the image's `done` line; its records as a RunResult. With `trace_log`,
    QEMU also logs every translated and executed block there (firmware.instruction_trace)."""
    qemu = require_emulator()
    serial = ["-serial", "null"] * CONSOLE_SERIAL[board.qemu_machine] + ["-serial", "stdio"]
    command = [str(qemu), "-M", board.qemu_machine, "-nodefaults", "-no-user-config", "-display", "none",
               "-monitor", "none", *serial, "-icount", "shift=0", "-sandbox", SANDBOX,
               *([*TRACE_FLAGS, "-D", str(Path(trace_log).resolve())] if trace_log is not None else []),
               "-kernel", str(Path(elf).resolve())]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    timed_out = threading.Event()
    timer = threading.Timer(timeout_s, lambda: (timed_out.set(), process.kill()))
    timer.start()
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\r\n"))
            if lines[-1] == "done" or lines[-1].startswith(("sapool-board exit", "sapool: processor fault")):
                break
    finally:
        timer.cancel()
        process.kill()
        stderr = process.communicate()[1]
    console = "\n".join(lines)
    if not lines or lines[-1] != "done":
        if timed_out.is_set():
            raise VerificationError(f"the board image did not finish within {timeout_s:g} s on {board.qemu_machine}")
        raise BuildError(f"the board image stopped before its `done` line on {board.qemu_machine}:\n"
                         f"{(console + stderr).strip()[-2000:]}")
    return parse_board_console(console, board.clock_hz, expected_inputs)


def parse_board_console(console: str, clock_hz: int, expected_inputs: int) -> RunResult:
    """The image's records (board_main.c) up to `done`: outputs from hex, SysTick ticks as instructions."""
    outputs: dict[int, bytes] = {}
    ticks: dict[int, int] = {}
    layers: list[LayerCount] = []
    stack = header = None
    for line in console.splitlines():
        fields = line.split()
        try:
            if fields[:1] == ["sapool-board"]:
                header = fields
            elif fields[:1] == ["input"]:
                ticks[int(fields[1])] = _instructions(int(fields[2]), clock_hz)
            elif fields[:1] == ["output"]:
                outputs[int(fields[1])] = bytes.fromhex(fields[2])
            elif fields[:1] == ["layer"]:
                layers.append(LayerCount(int(fields[1]), " ".join(fields[4:]), int(fields[3]),
                                         _instructions(int(fields[2]), clock_hz)))
            elif fields[:1] == ["stack"]:
                stack = tuple(int(field) for field in fields[1:4])
        except (ValueError, IndexError):
            raise BuildError(f"unreadable line in the board image's console output: {line[:200]!r}") from None
    if header is None or header[1] != BOARD_PROTOCOL or stack is None or len(stack) != 3:
        raise BuildError(f"the board image's console output is incomplete:\n{console.strip()[-2000:]}")
    if sorted(outputs) != list(range(expected_inputs)) or sorted(ticks) != list(range(expected_inputs)):
        raise BuildError(f"the board image ran {len(outputs)} of {expected_inputs} inputs")
    return RunResult(
        outputs=tuple(outputs[n] for n in range(expected_inputs)),
        instructions_per_input=tuple(ticks[n] for n in range(expected_inputs)),
        layers=tuple(layers),
        stack_high_water_bytes=stack[0],
        stack_reserved_bytes=stack[1],
        stack_at_invoke_bytes=stack[2],
        console=console,
    )


def _instructions(ticks: int, clock_hz: int) -> int:
    return round(ticks * NANOSECONDS_PER_SECOND / clock_hz)
