"""Run a harness firmware in qemu-system-arm, boxed, and read back what it measured.

The firmware is built with the CMSDK UART console (sapool/boards/_common/console_cmsdk_uart.c), so QEMU runs
without semihosting: nothing the firmware does reaches the host's files or commands. The host writes the input
rows to inputs.bin (a 4-byte count, padding to 16 bytes, then the rows), which QEMU's `-device loader` places in
board memory no linker script uses (HOST_INPUTS); it reads the harness's records and `out <hex>` lines (see
harness.c) from the serial port until the line `sapool-exit <code>`, and then stops QEMU. QEMU itself runs with
`-nodefaults -no-user-config` (no devices or config files beyond the board's) and its seccomp `-sandbox` (no new
processes, privileges or resource changes). `-icount shift=0` makes every instruction take 1 ns of virtual time,
so SysTick ticks (at the QEMU board's clock) convert to instructions and repeat exactly from run to run.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from sapool.errors import BadInputError, BuildError, VerificationError
from sapool.firmware.instruction_trace import TRACE_FLAGS
from sapool.firmware.toolchain import require_emulator
from sapool.targets import Target, load_targets

HARNESS_VERSION = "3"
NANOSECONDS_PER_SECOND = 1_000_000_000
_EXIT_MEANINGS = {4: "sapool_model_invoke returned an error", 5: "input or output with the host failed",
                  6: "processor fault"}
EXIT_LINE = "sapool-exit"
# Per QEMU machine: its UART0 for console_cmsdk_uart.c (a CMSDK APB UART; on the microbit the nRF51's own UART,
# UART_KINDS), and memory that no sapool linker script uses (the boards' PSRAM / DDR, 16 MiB at least; on the
# microbit the upper half of its 256K flash, which the qemu-m0 target leaves out of its flash) where the inputs
# are loaded. The mps2-an505 (Cortex-M33) runs Secure: its UART0 at the Secure alias.
UART_BASES = {"mps2-an386": 0x4000_4000, "mps2-an500": 0x4000_4000, "mps3-an547": 0x4930_3000,
              "mps2-an505": 0x5020_0000, "microbit": 0x4000_2000}
UART_KINDS = {"microbit": "nrf51"}
HOST_INPUTS = {"mps2-an386": 0x2100_0000, "mps2-an500": 0x6000_0000, "mps3-an547": 0x6000_0000,
               "mps2-an505": 0x8000_0000, "microbit": 0x0002_0000}
MAX_INPUT_BLOCK_BYTES = 16 << 20
INPUT_BLOCK_LIMITS = {"microbit": 128 << 10}
ROWS_OFFSET = 16
SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
MAX_CONSOLE_BYTES = 64 << 20  # a firmware that prints without end is stopped here


@dataclass(frozen=True)
class LayerCount:
    index: int
    name: str  # from the model's sapool_layer_names
    macs: int
    instructions: int  # summed over all inputs


@dataclass(frozen=True)
class RunResult:
    outputs: tuple[bytes, ...]
    instructions_per_input: tuple[int, ...]
    layers: tuple[LayerCount, ...]
    stack_high_water_bytes: int  # the whole firmware's
    stack_reserved_bytes: int
    stack_at_invoke_bytes: int  # in use by the harness when it calls sapool_model_invoke
    console: str

    @property
    def model_stack_bytes(self) -> int:
        """Stack the model needs: the high-water mark beyond what the harness had in use at the call."""
        return self.stack_high_water_bytes - self.stack_at_invoke_bytes


def qemu_board(target: Target) -> Target:
    """The emulated target (e.g. qemu-m7) whose QEMU machine runs `target`'s firmware."""
    if target.emulated:
        return target
    for candidate in load_targets().values():
        if candidate.emulated and candidate.qemu_machine == target.qemu_machine:
            return candidate
    raise VerificationError(f"no emulated target (sapool/boards) uses QEMU machine {target.qemu_machine}")


def harness_addresses(qemu_machine: str | None) -> dict[str, str]:
    """The harness image's UART_BASE and HOST_INPUTS on `qemu_machine` (empty: no harness image there)."""
    if qemu_machine not in UART_BASES:
        return {"uart_base": "", "host_inputs": "", "uart_kind": ""}
    return {"uart_base": f"{UART_BASES[qemu_machine]:#x}", "host_inputs": f"{HOST_INPUTS[qemu_machine]:#x}",
            "uart_kind": UART_KINDS.get(qemu_machine, "cmsdk")}


def qemu_command(qemu: Path, board: Target, elf: Path, inputs_file: Path, trace_log: Path | None = None) -> list[str]:
    """qemu-system-arm for `board` with only its own devices, the serial port on stdout, `inputs_file` loaded at
    HOST_INPUTS, and no semihosting; with `trace_log`, QEMU also logs every translated and executed block there
    (firmware.instruction_trace)."""
    loader = f"loader,file={Path(inputs_file).resolve()},addr={HOST_INPUTS[board.qemu_machine]:#x},force-raw=on"
    trace = [*TRACE_FLAGS, "-D", str(Path(trace_log).resolve())] if trace_log is not None else []
    return [str(qemu), "-M", board.qemu_machine, "-nodefaults", "-no-user-config", "-display", "none",
            "-monitor", "none", "-serial", "stdio", "-icount", "shift=0", "-sandbox", SANDBOX, *trace,
            "-device", loader, "-kernel", str(Path(elf).resolve())]


def run_firmware(elf: Path, board: Target, inputs: list[bytes], work_dir: Path, *, timeout_s: float = 300,
                 trace_log: Path | None = None) -> RunResult:
    """Run `elf` on the QEMU `board` over `inputs` (all of one model's input size); `trace_log`: qemu_command."""
    qemu = require_emulator()
    block = len(inputs).to_bytes(4, "little").ljust(ROWS_OFFSET, b"\0") + b"".join(inputs)
    limit = INPUT_BLOCK_LIMITS.get(board.qemu_machine, MAX_INPUT_BLOCK_BYTES)
    if len(block) > limit:
        raise BadInputError(f"{len(inputs)} inputs take {len(block):,} bytes; an emulation run on "
                            f"{board.qemu_machine} takes at most {limit:,} (run fewer --inputs)")
    inputs_file = Path(work_dir) / "inputs.bin"
    inputs_file.write_bytes(block)
    process = subprocess.Popen(qemu_command(qemu, board, elf, inputs_file, trace_log), cwd=work_dir, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: list[str] = []
    finished = threading.Event()
    reader = threading.Thread(target=_read_until_exit, args=(process.stdout, lines, finished), daemon=True)
    reader.start()
    try:
        exited = finished.wait(timeout_s)
    finally:
        process.kill()
        _, stderr = process.communicate()
    console = "".join(lines)
    code = _exit_code(lines)
    if not exited:
        raise VerificationError(f"the firmware did not finish within {timeout_s:g} s under {board.qemu_machine}")
    if code != 0:
        meaning = _EXIT_MEANINGS.get(code, "QEMU failed") if code is not None else "QEMU stopped"
        raise BuildError(
            f"firmware run failed on {board.qemu_machine} (exit {code}: {meaning}):\n"
            f"{(console + stderr.decode(errors='replace')).strip()[-2000:]}"
        )
    return parse_console(console, _outputs(lines), board.clock_hz, len(inputs))


def _read_until_exit(stream, lines: list[str], finished: threading.Event) -> None:
    """Collect the console's lines until the exit line (or QEMU's end, or too much output)."""
    total = 0
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        lines.append(line)
        total += len(raw)
        if line.startswith(EXIT_LINE) or total > MAX_CONSOLE_BYTES:
            break
    finished.set()


def _exit_code(lines: list[str]) -> int | None:
    for line in reversed(lines):
        fields = line.split()
        if len(fields) == 2 and fields[0] == EXIT_LINE and fields[1].isdigit():
            return int(fields[1])
    return None


def _outputs(lines: list[str]) -> bytes:
    """The output bytes of every `out <hex>` record, in order."""
    try:
        return b"".join(bytes.fromhex(line.split()[1]) for line in lines if line.startswith("out "))
    except (ValueError, IndexError):
        raise BuildError("unreadable output record in the firmware's console output") from None


def parse_console(console: str, outputs: bytes, clock_hz: int, expected_inputs: int) -> RunResult:
    """Read the harness's records; ticks become instructions at 1 instruction per ns of virtual time."""
    per_input: list[int] = []
    layers: list[LayerCount] = []
    stack = header = None
    done = False
    for line in console.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "sapool-harness" and len(fields) == 4:
            header = fields
            if header[1] != HARNESS_VERSION:
                raise BadInputError(f"the project's firmware harness is version {header[1]}, this sapool reads "
                                    f"version {HARNESS_VERSION}: write the project again with `sapool compile`")
        try:
            stack = _read_record(fields, clock_hz, per_input, layers) or stack
        except (ValueError, IndexError):
            raise BuildError(f"unreadable line in the firmware's console output: {line[:200]!r}") from None
        done = done or fields[0] == "done"
    if header is None or not done or stack is None:
        raise BuildError(f"the firmware's console output is incomplete:\n{console.strip()[-2000:]}")
    if int(header[2]) != expected_inputs or len(per_input) != expected_inputs:
        raise BuildError(f"the firmware ran {len(per_input)} of {expected_inputs} inputs")
    output_bytes = len(outputs) // expected_inputs
    return RunResult(
        outputs=tuple(outputs[n * output_bytes:(n + 1) * output_bytes] for n in range(expected_inputs)),
        instructions_per_input=tuple(per_input),
        layers=tuple(layers),
        stack_high_water_bytes=stack[0],
        stack_reserved_bytes=stack[1],
        stack_at_invoke_bytes=stack[2],
        console=console,
    )


def _read_record(fields: list[str], clock_hz: int, per_input: list[int], layers: list[LayerCount]):
    """Append an `input` or `layer` record's figures; return a `stack` record's three numbers (else None).
    ValueError/IndexError on a malformed record."""
    if fields[0] == "input":
        per_input.append(_instructions(int(fields[2]), clock_hz))
    elif fields[0] == "layer":
        instructions = _instructions(int(fields[2]), clock_hz)
        layers.append(LayerCount(int(fields[1]), " ".join(fields[4:]), int(fields[3]), instructions))
    elif fields[0] == "stack":
        return int(fields[1]), int(fields[2]), int(fields[3])
    return None


def _instructions(ticks: int, clock_hz: int) -> int:
    return round(ticks * NANOSECONDS_PER_SECOND / clock_hz)
