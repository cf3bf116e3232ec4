"""Run a harness firmware in qemu-system-arm and read back what it measured.

The run happens in a scratch folder: inputs.bin goes in, outputs.bin comes out through semihosting file I/O, the
harness prints its records on the console (see sapool/boards/_common/harness.c) and exits through
SYS_EXIT_EXTENDED with its status. `-icount shift=0` makes every instruction take 1 ns of virtual time, so
SysTick ticks (at the QEMU board's clock) convert to instructions and repeat exactly from run to run.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from sapool.errors import BadInputError, BuildError, VerificationError
from sapool.firmware.toolchain import require_emulator
from sapool.targets import Target, load_targets

HARNESS_VERSION = "2"
NANOSECONDS_PER_SECOND = 1_000_000_000
_EXIT_MEANINGS = {4: "sapool_model_invoke returned an error", 5: "file I/O with the host failed", 6: "processor fault"}


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


def run_firmware(elf: Path, board: Target, inputs: list[bytes], work_dir: Path, *, timeout_s: float = 300) -> RunResult:
    """Run `elf` on the QEMU `board` over `inputs` (all of one model's input size)."""
    qemu = require_emulator()
    work_dir = Path(work_dir)
    (work_dir / "inputs.bin").write_bytes(b"".join(inputs))
    console_file = work_dir / "console.txt"
    command = [
        str(qemu), "-M", board.qemu_machine, "-nographic", "-monitor", "none", "-serial", "none",
        "-icount", "shift=0", "-chardev", f"file,id=console,path={console_file}",
        "-semihosting-config", "enable=on,target=native,chardev=console", "-kernel", str(Path(elf).resolve()),
    ]
    try:
        run = subprocess.run(command, cwd=work_dir, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise VerificationError(
            f"the firmware did not finish within {timeout_s:g} s under {board.qemu_machine}"
        ) from None
    console = console_file.read_text(errors="replace") if console_file.exists() else ""
    if run.returncode != 0:
        meaning = _EXIT_MEANINGS.get(run.returncode, "QEMU failed")
        raise BuildError(
            f"firmware run failed on {board.qemu_machine} (exit {run.returncode}: {meaning}):\n"
            f"{(console + run.stderr).strip()[-2000:]}"
        )
    return parse_console(console, (work_dir / "outputs.bin").read_bytes(), board.clock_hz, len(inputs))


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
