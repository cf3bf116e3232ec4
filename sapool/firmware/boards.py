"""The firmware half of a board folder (sapool/boards/<target name>/): the `[firmware]` table of its board.toml.

A board is its board.toml plus, optionally, its own C files or template overrides; everything boards share
(startup, console, harness, linker script and Makefile templates) is in sapool/boards/_common/. Templates are
looked up in the board folder first, then in `_common/`, so a board can replace any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from sapool.boards import BOARD_FILE, BOARDS_DIR, COMMON_DIR, board_folders
from sapool.errors import BadInputError
from sapool.sanitize import JINJA_FILTERS
from sapool.targets import Target
from sapool.targets.load import read_board_file

COMMON_SOURCES = ("startup.c", "console_semihosting.c", "profile.c", "harness.c")
COMMON_HEADERS = ("startup.h", "console.h", "profile.h")
_KEYS = {"irq_count": (int, "a positive integer"), "stack_bytes": (int, "a positive integer"),
         "sources": (list, "a list of C file names")}
_REQUIRED = ("irq_count", "stack_bytes")


@dataclass(frozen=True)
class Board:
    """One board folder. `sources` are the C files the firmware compiles besides the generated model."""

    name: str
    folder: Path
    irq_count: int
    stack_bytes: int
    sources: tuple[Path, ...]

    @property
    def firmware_files(self) -> tuple[Path, ...]:
        """Every C and header file copied into a project's firmware/ folder."""
        common = tuple(COMMON_DIR / name for name in (*COMMON_SOURCES, *COMMON_HEADERS))
        return common + self.sources

    def render(self, template: str, **values) -> str:
        """Render `template` (board folder first, then _common/) with `values`; unknown names are errors."""
        loader = jinja2.FileSystemLoader([str(self.folder), str(COMMON_DIR)])
        environment = jinja2.Environment(
            loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
        )
        environment.filters.update(JINJA_FILTERS)  # names from a model are data (sapool.sanitize)
        return environment.get_template(template).render(board=self.name, **values)


def load_board(name: str) -> Board:
    """The firmware data of target `name`'s board folder; a target without a [firmware] table cannot get firmware."""
    folder = BOARDS_DIR / name
    data_file = folder / BOARD_FILE
    data = read_board_file(data_file).get("firmware") if data_file.is_file() else None
    if data is None:
        known = ", ".join(f.name for f in board_folders(BOARDS_DIR) if "firmware" in read_board_file(f / BOARD_FILE))
        raise BadInputError(
            f"no firmware for target '{name}' (no [firmware] table in {data_file}); boards with firmware: {known}. "
            "See docs/adding_a_board.md"
        )
    if not isinstance(data, dict):
        raise BadInputError(f"{data_file}: [firmware] must be a table")
    for key in data:
        if key not in _KEYS:
            raise BadInputError(f"{data_file}: [firmware]: unknown key '{key}'; allowed: {', '.join(_KEYS)}")
    for key, (kind, meaning) in _KEYS.items():
        value = data.get(key)
        if (key in _REQUIRED or value is not None) and not _valid(value, kind):
            raise BadInputError(f"{data_file}: [firmware]: '{key}' must be {meaning}, got {value!r}")
    sources = tuple(_find_source(data_file, folder, str(source)) for source in data.get("sources", []))
    return Board(name, folder, data["irq_count"], data["stack_bytes"], sources)


def cpu_flags(target: Target) -> str:
    """gcc's code-generation flags for the target's core and FPU (board.toml spells them as gcc does)."""
    flags = [f"-mcpu={target.core}", "-mthumb"]
    if target.fpu == "none":
        flags.append("-mfloat-abi=soft")
    else:
        flags += [f"-mfpu={target.fpu}", "-mfloat-abi=hard"]
    return " ".join(flags)


def _valid(value, kind: type) -> bool:
    """Lists are lists; integers are positive and not TOML booleans."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, kind)


def _find_source(data_file: Path, folder: Path, name: str) -> Path:
    for place in (folder, COMMON_DIR):
        if (place / name).is_file():
            return place / name
    raise BadInputError(f"{data_file}: [firmware]: source '{name}' is neither in {folder} nor in {COMMON_DIR}")
