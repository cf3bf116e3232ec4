"""Linker memory maps: the real part's addresses on hardware; on QEMU the part's sizes at the QEMU board's RAM."""

import pytest

from sapool.errors import BadInputError
from sapool.firmware.memory_map import LinkRegion, emulator_map, hardware_map
from sapool.targets import budget_region, get_target

KIB = 1024


def test_hardware_map_uses_the_parts_own_addresses_and_shares_the_first_region():
    target = get_target("stm32h7")
    memory = hardware_map(target, target.data_regions)
    assert memory.flash == LinkRegion("FLASH", 0x0800_0000, 2048 * KIB)
    assert memory.arenas[0] == LinkRegion("DTCM", 0x2000_0000, 128 * KIB)
    assert [region.name for region in memory.arenas] == ["DTCM", "AXI", "SRAM1", "SRAM2", "SRAM3", "SRAM4"]
    assert memory.system == memory.arenas[0] and not memory.system_separate


def test_a_budget_caps_the_arena_and_leaves_the_rest_of_the_part_to_the_firmware():
    memory = hardware_map(get_target("stm32f4"), (budget_region(10 * KIB),))
    assert memory.arenas == (LinkRegion("budget", 0x2000_0000, 10 * KIB),)
    assert memory.system == LinkRegion("SYSTEM", 0x2000_0000 + 10 * KIB, 102 * KIB) and memory.system_separate


def test_a_budget_filling_a_region_sends_the_firmware_ram_to_another_one():
    memory = hardware_map(get_target("stm32f4"), (budget_region(112 * KIB),))
    assert memory.arenas == (LinkRegion("budget", 0x2000_0000, 112 * KIB),)
    assert memory.system == LinkRegion("SYSTEM", 0x2001_C000, 16 * KIB)


def test_a_budget_larger_than_any_region_is_capped_at_the_largest_so_ld_reports_it():
    memory = hardware_map(get_target("stm32f4"), (budget_region(200 * KIB),))
    assert memory.arenas == (LinkRegion("budget", 0x2000_0000, 112 * KIB),)


def test_emulated_regions_keep_the_parts_sizes_back_to_back_in_qemu_ram():
    target, board = get_target("stm32h7"), get_target("qemu-m7")
    memory = emulator_map(target, board, target.data_regions)
    assert [(r.name, r.length) for r in memory.arenas] == [(r.name, r.size) for r in target.data_regions]
    assert memory.arenas[0].origin == 0x2000_0000
    for lower, upper in zip(memory.arenas, memory.arenas[1:]):
        assert lower.origin + lower.length <= upper.origin < lower.origin + lower.length + 32
    assert memory.system_separate
    assert memory.system.origin >= memory.arenas[-1].origin + memory.arenas[-1].length
    assert memory.system.origin + memory.system.length == 0x2000_0000 + 4096 * KIB
    assert memory.flash == LinkRegion("FLASH", 0x0, 2048 * KIB)


def test_a_qemu_board_with_its_own_regions_is_its_own_hardware():
    board = get_target("qemu-m7")
    assert emulator_map(board, board, board.data_regions) == hardware_map(board, board.data_regions)


def test_a_budget_larger_than_the_qemu_ram_cannot_be_emulated():
    with pytest.raises(BadInputError, match="does not fit in what is left of the QEMU board's RAM"):
        emulator_map(get_target("stm32f4"), get_target("qemu-m4"), (budget_region(8192 * KIB),))
