"""Where the firmware's sections go: the MEMORY regions of the linker script.

Two maps. On hardware every planned region sits at its real address with its real size, and the firmware's own
RAM (.data, .bss, harness buffers, stack) shares the first of them; a QEMU board that emulates the part's SoC
(netduinoplus2) runs the board image on that very map (board_image_map). Under emulation a target's regions are laid
out one after another in the QEMU board's RAM, each with exactly the target's size (or the `--ram-budget`), and
the firmware's own RAM gets the rest of the QEMU RAM: an arena then links on QEMU if and only if it fits the real
part, and the stack and static data are measured apart from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sapool.errors import BadInputError
from sapool.targets import Region, Target, budget_region

SYSTEM_REGION = "SYSTEM"
BUDGET_REGION = budget_region(0).name
_ALIGN = 32


@dataclass(frozen=True)
class LinkRegion:
    """One MEMORY line: a region name as ld reports it, its origin and length in bytes."""

    name: str
    origin: int
    length: int


@dataclass(frozen=True)
class MemoryMap:
    flash: LinkRegion
    arenas: tuple[LinkRegion, ...]
    system: LinkRegion
    system_separate: bool  # False: the firmware's RAM shares the arena region of the same name


def hardware_map(target: Target, arena_regions: Sequence[Region]) -> MemoryMap:
    """The part's real memory map, with the planned regions at their real addresses.

    A `--ram-budget` (one region named "budget") is a cap on the arena, not on the part: it goes at the base of
    the first data region that can hold it (else of the largest one, where ld then reports the overflow), and the
    firmware's own RAM goes into the largest RAM left: the rest of that region or another data region.
    """
    flash = LinkRegion("FLASH", target.flash_base, target.flash_size)
    if [region.name for region in arena_regions] != [BUDGET_REGION]:
        arenas = tuple(LinkRegion(region.name, region.base, region.size) for region in arena_regions)
        return MemoryMap(flash, arenas, arenas[0], system_separate=False)
    budget = arena_regions[0].size
    regions = target.data_regions
    home = next((r for r in regions if r.size >= budget), max(regions, key=lambda region: region.size))
    arena = LinkRegion(BUDGET_REGION, home.base, min(budget, home.size))
    rest = _aligned(home.base + arena.length)
    room = [(home.end - rest, rest)] + [(region.size, region.base) for region in regions if region != home]
    length, origin = max(room)
    return MemoryMap(flash, (arena,), LinkRegion(SYSTEM_REGION, origin, max(length, 0)), system_separate=True)


def emulator_map(target: Target, board: Target, arena_regions: Sequence[Region]) -> MemoryMap:
    """`target`'s regions (capped at their sizes) laid out in the RAM of the QEMU `board` (an emulated target).

    A QEMU board running its own full regions is its own hardware: then this is the hardware map.
    """
    if target == board and tuple(arena_regions) == target.data_regions:
        return hardware_map(target, arena_regions)
    free = [[region.base, region.end] for region in board.data_regions]
    arenas = []
    for region in arena_regions:
        chunk = next((c for c in free if _aligned(c[0]) + region.size <= c[1]), None)
        if chunk is None:
            raise BadInputError(
                f"cannot emulate {target.name} on {board.name}: region {region.name} ({region.size} bytes) does not "
                f"fit in what is left of the QEMU board's RAM ({board.data_sram_bytes} bytes in all); emulate with a "
                "--ram-budget that leaves room for the stack"
            )
        origin = _aligned(chunk[0])
        arenas.append(LinkRegion(region.name, origin, region.size))
        chunk[0] = origin + region.size
    start, end = max(free, key=lambda c: c[1] - _aligned(c[0]))
    system = LinkRegion(SYSTEM_REGION, _aligned(start), end - _aligned(start))
    flash = LinkRegion("FLASH", board.flash_base, min(target.flash_size, board.flash_size))
    return MemoryMap(flash, tuple(arenas), system, system_separate=True)


def board_image_map(target: Target, board: Target, arena_regions: Sequence[Region]) -> MemoryMap:
    """The part's own memory map (hardware_map), for a QEMU board that emulates the part's SoC closely enough to
    run its standalone image at the real addresses (netduinoplus2 for stm32f4): every region, flash included,
    must lie inside the QEMU board's memory."""
    memory_map = hardware_map(target, arena_regions)
    blocks = [(board.flash_base, board.flash_base + board.flash_size)]
    blocks += [(region.base, region.end) for region in board.data_regions]
    for region in (memory_map.flash, *memory_map.arenas, memory_map.system):
        if not any(start <= region.origin and region.origin + region.length <= end for start, end in blocks):
            raise BadInputError(
                f"cannot emulate {target.name} on {board.name}: its {region.name} [{region.origin:#010x}, "
                f"{region.origin + region.length:#010x}) is not in the QEMU board's memory"
            )
    return memory_map


def _aligned(address: int) -> int:
    return (address + _ALIGN - 1) // _ALIGN * _ALIGN
