"""`make flash` in a generated project: per board the probe tool's command (pyOCD by default, OpenOCD, st-flash on
the STM32 parts), .hex and .bin beside the ELF, and a missing tool as one line naming what to install."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from sapool.firmware.boards import load_board
from sapool.targets import get_target
from tests.firmware.fixture_models import write_fixture_project

# board -> the command each FLASHER runs (make -n), None where that tool is not offered
EXPECTED = {
    "stm32h7": ("pyocd flash --target stm32h743xx build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32h7x.cfg -c "program build/firmware.elf verify reset exit"',
                "st-flash --reset write build/firmware.bin 0x08000000"),
    "stm32f7": ("pyocd flash --target stm32f746zgtx build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32f7x.cfg -c "program build/firmware.elf verify reset exit"',
                "st-flash --reset write build/firmware.bin 0x08000000"),
    "stm32f4": ("pyocd flash --target stm32f446retx build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c "program build/firmware.elf verify reset exit"',
                "st-flash --reset write build/firmware.bin 0x08000000"),
    "stm32l4": ("pyocd flash --target stm32l4r5zitx build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32l4x.cfg -c "program build/firmware.elf verify reset exit"',
                "st-flash --reset write build/firmware.bin 0x08000000"),
    "stm32u5": ("pyocd flash --target stm32u575zitxq build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32u5x.cfg -c "program build/firmware.elf verify reset exit"',
                None),
    "stm32g0": ("pyocd flash --target stm32g0b1retx build/firmware.hex",
                'openocd -f interface/stlink.cfg -f target/stm32g0x.cfg -c "program build/firmware.elf verify reset exit"',
                "st-flash --reset write build/firmware.bin 0x08000000"),
    "nrf52840": ("pyocd flash --target nrf52840 build/firmware.hex",
                 'openocd -f board/nordic_nrf52_dk.cfg -c "program build/firmware.elf verify reset exit"', None),
}


def dry_run(project, *variables) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-n", "-C", str(project), "flash", *variables], capture_output=True,
                          text=True, check=False)


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    if shutil.which("make") is None:
        pytest.skip("make not installed (make setup installs it)")
    folder = tmp_path_factory.mktemp("flash")
    return {name: write_fixture_project(folder / name, get_target(name)) for name in [*EXPECTED, "qemu-m7"]}


@pytest.mark.parametrize("board", EXPECTED)
def test_make_n_flash_runs_each_boards_probe_tool(projects, board):
    for flasher, command in zip(("pyocd", "openocd", "st-flash"), EXPECTED[board]):
        result = dry_run(projects[board], f"FLASHER={flasher}")
        lines = result.stdout.splitlines()
        if command is None:
            assert "FLASHER must be pyocd or openocd, not 'st-flash'" in result.stdout
            continue
        assert result.returncode == 0, result.stderr
        assert lines[-1] == command
        assert f"command -v {flasher} >/dev/null" in lines[-2]
    assert dry_run(projects[board]).stdout.splitlines()[-1] == EXPECTED[board][0]  # pyOCD by default


def test_the_pyocd_packs_are_named_where_pyocd_has_no_built_in_target():
    assert load_board("stm32f4").flash.pyocd_pack == "stm32f446re"
    assert load_board("stm32h7").flash.pyocd_pack is None  # stm32h743xx is built into pyOCD


def test_an_emulated_board_has_nothing_to_flash(projects):
    assert load_board("qemu-m7").flash is None
    assert "qemu-m7 is emulated (QEMU): there is no board to flash" in dry_run(projects["qemu-m7"]).stdout


@pytest.mark.emu
def test_a_missing_flash_tool_is_one_line_naming_what_to_install(projects):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (make setup installs it)")
    tools = projects["stm32f4"].parent / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("make", "arm-none-eabi-gcc", "arm-none-eabi-objcopy", "sh", "mkdir", "rm", "touch"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    environment = {**os.environ, "PATH": str(tools)}  # the compiler but no flashing tool
    result = subprocess.run(["make", "-s", "-C", str(projects["stm32f4"]), "flash"], capture_output=True, text=True,
                            env=environment, check=False)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == ("Error: pyocd not found; install it with: pip install pyocd "
                                              "(or make flash FLASHER=openocd|st-flash)")
    build = projects["stm32f4"] / "build"
    assert (build / "firmware.hex").read_text().startswith(":")  # Intel HEX records
    assert 0 < (build / "firmware.bin").stat().st_size < get_target("stm32f4").flash_size
