"""The data model of a target: a microcontroller's core, clock, flash and RAM regions.

Frozen dataclasses so that a Target loaded once (and cached) can be shared by every caller without copies.
"""

from dataclasses import dataclass

REGION_KINDS = ("data", "code")


@dataclass(frozen=True)
class Region:
    """One contiguous RAM block. kind "data" may hold activations; "code" (e.g. ITCM) holds only code."""

    name: str
    base: int
    size: int
    kind: str = "data"

    @property
    def end(self) -> int:
        """First address past the region."""
        return self.base + self.size

    def as_dict(self) -> dict:
        return {"name": self.name, "base": self.base, "size_bytes": self.size, "kind": self.kind}


@dataclass(frozen=True)
class Target:
    """A board or chip sapool compiles for. `regions` are in order of preference, fastest first.

    `qemu_machine` is the QEMU board with the same core used to run this target's firmware in tests;
    `emulated` is True for the QEMU boards themselves, which have no hardware (and no meaningful clock).
    """

    name: str
    part: str
    core: str
    fpu: str
    clock_hz: int
    flash_base: int
    flash_size: int
    regions: tuple[Region, ...]
    description: str
    qemu_machine: str
    emulated: bool = False

    @property
    def data_regions(self) -> tuple[Region, ...]:
        """The regions activations may go into, fastest first."""
        return tuple(region for region in self.regions if region.kind == "data")

    @property
    def data_sram_bytes(self) -> int:
        """Total RAM available for data, summed over all data regions (no single buffer can use it all)."""
        return sum(region.size for region in self.data_regions)

    def as_dict(self) -> dict:
        """JSON-ready description; sizes in bytes, addresses as integers."""
        return {
            "name": self.name,
            "part": self.part,
            "core": self.core,
            "fpu": self.fpu,
            "clock_hz": self.clock_hz,
            "flash": {"base": self.flash_base, "size_bytes": self.flash_size},
            "regions": [region.as_dict() for region in self.regions],
            "data_sram_bytes": self.data_sram_bytes,
            "description": self.description,
            "qemu_machine": self.qemu_machine,
            "emulated": self.emulated,
        }


def budget_region(size_bytes: int) -> Region:
    """A single data region standing for a user's `--ram-budget`, replacing the target's own regions."""
    return Region("budget", 0, size_bytes, "data")
