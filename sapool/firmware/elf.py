"""Sizes read from the linked ELF with pyelftools (no map-file scraping).

- flash: every allocated section with contents (code, constants, the .data image), i.e. what gets programmed;
- arenas: the `.sapool_arena.<REGION>` output sections, and the symbols (arena arrays) inside them;
- static RAM: .data + .bss, the RAM the model's and kernels' own variables take besides the arenas;
- harness: the test harness's I/O buffers and counters (.harness), which an application replaces by its own;
- stack: the reserved .stack section (the emulator measures how much of it is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ARENA_PREFIX = ".sapool_arena."
_SHF_ALLOC = 0x2


@dataclass(frozen=True)
class ElfSizes:
    flash_bytes: int
    arena_bytes: dict[str, int]  # region name -> bytes of its arena section
    arena_symbols: dict[str, int]  # arena array name -> bytes
    static_bytes: int
    harness_bytes: int
    stack_reserved_bytes: int

    @property
    def total_arena_bytes(self) -> int:
        return sum(self.arena_bytes.values())


def read_sizes(elf_path: Path) -> ElfSizes:
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as stream:
        elf = ELFFile(stream)
        sections = [s for s in elf.iter_sections() if s["sh_flags"] & _SHF_ALLOC]
        sizes = {s.name: s["sh_size"] for s in sections}
        flash = sum(s["sh_size"] for s in sections if s["sh_type"] != "SHT_NOBITS")
        arena_indices = {i for i, s in enumerate(elf.iter_sections()) if s.name.startswith(ARENA_PREFIX)}
        symbols = elf.get_section_by_name(".symtab")
        arena_symbols = {
            symbol.name: symbol["st_size"]
            for symbol in (symbols.iter_symbols() if symbols is not None else ())
            if symbol["st_shndx"] in arena_indices and symbol["st_info"]["type"] == "STT_OBJECT"
        }
    return ElfSizes(
        flash_bytes=flash,
        arena_bytes={name[len(ARENA_PREFIX):]: size for name, size in sizes.items() if name.startswith(ARENA_PREFIX)},
        arena_symbols=arena_symbols,
        static_bytes=sizes.get(".data", 0) + sizes.get(".bss", 0),
        harness_bytes=sizes.get(".harness", 0),
        stack_reserved_bytes=sizes.get(".stack", 0),
    )


def function_bytes(elf_path: Path, source_names: set[str]) -> int:
    """Bytes of machine code the ELF holds for the functions defined in the C files named in `source_names`
    (base names, e.g. {"conv.c", "model.c"}): global functions are matched through the file-local symbols that
    follow each STT_FILE entry of the symbol table, in order; global functions whose name starts with `sapool_`
    count too (GCC lists globals after all locals)."""
    from elftools.elf.elffile import ELFFile

    total = 0
    with open(elf_path, "rb") as stream:
        symbols = ELFFile(stream).get_section_by_name(".symtab")
        current = None
        for symbol in symbols.iter_symbols() if symbols is not None else ():
            kind, bind = symbol["st_info"]["type"], symbol["st_info"]["bind"]
            if kind == "STT_FILE":
                current = symbol.name
            elif kind == "STT_FUNC" and (
                (bind == "STB_LOCAL" and current in source_names)
                or (bind == "STB_GLOBAL" and symbol.name.startswith("sapool_"))
            ):
                total += symbol["st_size"]
    return total
