"""Every board template builds the fixture model; a plan that does not fit fails to link naming region and bytes;
missing tools are exit-3 errors with the install command."""

from __future__ import annotations

import shutil

import pytest

from sapool.boards import BOARDS_DIR
from sapool.errors import DoesNotFitError, MissingToolError
from sapool.firmware.boards import load_board
from sapool.firmware.build import build_firmware, overflowed_regions
from sapool.firmware.elf import read_sizes
from sapool.firmware.toolchain import APT_INSTALL
from sapool.targets import budget_region, get_target, load_targets
from tests.firmware.fixture_models import require_firmware_tools, write_fixture_project

BOARDS = ("stm32h7", "stm32f7", "stm32f4", "stm32l4", "nrf52840", "stm32u5", "stm32g0", "netduinoplus2", "qemu-m7",
          "qemu-m4", "qemu-m55", "qemu-m33", "qemu-m0")


def test_every_target_has_a_board_folder():
    assert set(BOARDS) <= set(load_targets())
    assert [name for name in load_targets() if "[firmware]" not in (BOARDS_DIR / name / "board.toml").read_text()] == []


@pytest.mark.emu
@pytest.mark.parametrize("board", BOARDS)
def test_board_builds_the_fixture_model_into_its_regions(tmp_path, board):
    require_firmware_tools()
    target = get_target(board)
    project = write_fixture_project(tmp_path / "project", target)
    sizes = read_sizes(build_firmware(project, tmp_path / "build"))
    first_region = target.data_regions[0].name
    assert sizes.arena_bytes == {first_region: 32}
    assert sizes.arena_symbols == {"arena": 32}
    assert sizes.static_bytes == 4  # the fixture's one variable (its `ready` flag, as a generated model has)
    assert sizes.harness_bytes > 0  # the harness's counters, in .harness (inputs go straight into the arena)
    assert sizes.stack_reserved_bytes == load_board(board).stack_bytes
    assert 1000 < sizes.flash_bytes < target.flash_size


@pytest.mark.emu
def test_an_arena_larger_than_its_region_fails_to_link_naming_region_and_bytes(tmp_path):
    require_firmware_tools()
    target = get_target("stm32f4")
    budget = budget_region(4000)
    project = write_fixture_project(tmp_path / "project", target, (budget,), arena_bytes=4096)
    with pytest.raises(DoesNotFitError, match=r"region budget overflowed by \d+ bytes"):
        build_firmware(project, tmp_path / "build")


@pytest.mark.emu
def test_a_budget_that_leaves_no_room_for_the_stack_says_so(tmp_path):
    require_firmware_tools()
    target = get_target("nrf52840")  # one 256 KiB region: a budget of all of it leaves nothing for the stack
    project = write_fixture_project(tmp_path / "project", target, (budget_region(256 * 1024),))
    with pytest.raises(DoesNotFitError, match=r"region SYSTEM \(the firmware's own stack and static data\) "
                                              r"overflowed by \d+ bytes"):
        build_firmware(project, tmp_path / "build")


def test_overflow_lines_are_read_per_region():
    output = "ld: firmware.elf section `.bss' will not fit in region `DTCM'\nld: region `DTCM' overflowed by 96 bytes\n"
    assert overflowed_regions(output) == {"DTCM": 96}


def test_a_missing_compiler_is_exit_3_with_the_apt_command(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if shutil.which("make"):
        (bin_dir / "make").symlink_to(shutil.which("make"))  # make present, the cross compiler not
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(MissingToolError) as caught:
        build_firmware(tmp_path, tmp_path / "build")
    assert caught.value.exit_code == 3
    assert APT_INSTALL in str(caught.value)
