"""Reading the harness's console records."""

import pytest

from sapool.errors import BadInputError, BuildError
from sapool.firmware.emulator import _outputs, parse_console, qemu_board, qemu_command
from sapool.targets import get_target

CONSOLE = """sapool-harness 3 2 2
out 0102
input 0 100
out 0304
input 1 101
layer 0 150 1000 CONV_2D
layer 1 40 0 SOFTMAX
stack 312 8192 40
done
"""


def test_records_become_instructions_at_the_boards_clock():
    result = parse_console(CONSOLE, _outputs(CONSOLE.splitlines(keepends=True)), clock_hz=25_000_000,
                           expected_inputs=2)
    assert result.outputs == (b"\x01\x02", b"\x03\x04")
    assert result.instructions_per_input == (4000, 4040)  # 40 ns per tick at 25 MHz, 1 instruction per ns
    assert [(layer.name, layer.macs, layer.instructions) for layer in result.layers] == [
        ("CONV_2D", 1000, 6000), ("SOFTMAX", 0, 1600),
    ]
    assert (result.stack_high_water_bytes, result.stack_reserved_bytes, result.stack_at_invoke_bytes) == (312, 8192, 40)
    assert result.model_stack_bytes == 272


def test_a_console_cut_short_is_an_error():
    with pytest.raises(BuildError, match="incomplete"):
        parse_console(CONSOLE.replace("done\n", ""), b"\0" * 4, clock_hz=25_000_000, expected_inputs=2)


def test_a_project_from_another_harness_version_says_to_recompile():
    """A project written by an older sapool (harness v1 printed `stack` with two numbers)."""
    old = CONSOLE.replace("sapool-harness 3", "sapool-harness 1").replace("stack 312 8192 40", "stack 312 8192")
    with pytest.raises(BadInputError, match="harness is version 1.*sapool compile"):
        parse_console(old, b"\0" * 4, clock_hz=25_000_000, expected_inputs=2)


def test_a_malformed_record_is_one_error_not_a_traceback():
    with pytest.raises(BuildError, match="unreadable line.*stack 312"):
        parse_console(CONSOLE.replace("stack 312 8192 40", "stack 312 8192"), b"\0" * 4, clock_hz=25_000_000,
                      expected_inputs=2)


def test_real_targets_run_on_the_qemu_board_of_their_core():
    assert qemu_board(get_target("stm32h7")).name == "qemu-m7"
    assert qemu_board(get_target("nrf52840")).name == "qemu-m4"
    assert qemu_board(get_target("qemu-m55")).name == "qemu-m55"


def test_qemu_runs_boxed_without_semihosting():
    """No semihosting (the firmware could open host files or run commands through it), only the board's own
    devices, no user config, and QEMU's seccomp sandbox."""
    for name in ("qemu-m4", "qemu-m7", "qemu-m55"):
        command = qemu_command("qemu-system-arm", get_target(name), "fw.elf", "inputs.bin")
        assert not any("semihosting" in part for part in command)
        assert "-nodefaults" in command and "-no-user-config" in command
        assert command[command.index("-sandbox") + 1].startswith("on,") and "spawn=deny" in command[command.index("-sandbox") + 1]
