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

# Every image: reset handler, profiler, console number formatting.
COMMON_SOURCES = ("startup.c", "profile.c", "console_number.c")
COMMON_HEADERS = ("startup.h", "console.h", "profile.h")
# The QEMU test harness (`sapool emulate` on the mps2/mps3 boards): a CMSDK UART console, inputs QEMU loads into
# memory, no semihosting.
HARNESS_SOURCES = ("console_cmsdk_uart.c", "harness.c")
# The standalone board image: its main() and console over the board's UART, inputs compiled in (samples.c).
BOARD_IMAGE_SOURCES = ("board_main.c", "console_uart.c")
BOARD_IMAGE_HEADERS = ("board.h", "samples.h")
IMAGES = ("board", "harness")
_KEYS = {"irq_count": (int, "a positive integer"), "stack_bytes": (int, "a positive integer"),
         "sources": (list, "a list of C file names"), "board_sources": (list, "a list of C file names"),
         "flash": (dict, "a table {pyocd_target, openocd, st_flash, pyocd_pack}"),
         "console": (str, "the debug UART and its pins, in words")}
_REQUIRED = ("irq_count", "stack_bytes")
_FLASH_KEYS = {"pyocd_target": str, "openocd": str, "st_flash": bool, "pyocd_pack": str}


@dataclass(frozen=True)
class FlashTools:
    """How `make flash` writes the image: pyOCD's target name (and the CMSIS pack that defines it, when it is not
    built into pyOCD), OpenOCD's interface and target configuration, and whether ST's st-flash can do it."""

    pyocd_target: str
    openocd: str
    st_flash: bool = False
    pyocd_pack: str | None = None


@dataclass(frozen=True)
class Board:
    """One board folder. `sources` are the C files every image of it compiles besides the generated model (safe on
    any part with its core, e.g. cache set-up); `board_sources` the clock tree and UART of the standalone image,
    which touch the part's own peripherals. A board without them (the QEMU boards) builds only the harness."""

    name: str
    folder: Path
    irq_count: int
    stack_bytes: int
    sources: tuple[Path, ...]
    board_sources: tuple[Path, ...] = ()
    flash: FlashTools | None = None  # None: nothing to flash (a QEMU board)
    console: str = ""  # the board image's debug UART and pins, in words, for the project's README

    @property
    def default_image(self) -> str:
        """What a plain `make` builds: the standalone image where the board has one, else the QEMU harness."""
        return "board" if self.board_sources else "harness"

    @property
    def firmware_files(self) -> tuple[Path, ...]:
        """Every C and header file copied into a project's firmware/ folder."""
        names = (*COMMON_SOURCES, *COMMON_HEADERS, *HARNESS_SOURCES)
        if self.board_sources:
            names += (*BOARD_IMAGE_SOURCES, *BOARD_IMAGE_HEADERS)
        return tuple(COMMON_DIR / name for name in names) + self.sources + self.board_sources

    def image_sources(self, image: str) -> tuple[str, ...]:
        """The firmware/ C files only `image` ("board" or "harness") compiles."""
        if image == "harness":
            return HARNESS_SOURCES
        return (*BOARD_IMAGE_SOURCES, *(path.name for path in self.board_sources if path.suffix == ".c"))

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
    sources, board_sources = (tuple(_find_source(data_file, folder, str(source)) for source in data.get(key, []))
                              for key in ("sources", "board_sources"))
    flash = _flash_tools(data_file, data["flash"]) if "flash" in data else None
    return Board(name, folder, data["irq_count"], data["stack_bytes"], sources, board_sources, flash,
                 data.get("console", ""))


def _flash_tools(data_file: Path, table: dict) -> FlashTools:
    unknown = sorted(set(table) - set(_FLASH_KEYS))
    missing = sorted({"pyocd_target", "openocd"} - set(table))
    wrong = sorted(key for key, kind in _FLASH_KEYS.items() if key in table and not isinstance(table[key], kind))
    if unknown or missing or wrong:
        problem = "; ".join(part for part in (f"unknown {', '.join(unknown)}" if unknown else "",
                                              f"missing {', '.join(missing)}" if missing else "",
                                              f"wrong type: {', '.join(wrong)}" if wrong else "") if part)
        raise BadInputError(f"{data_file}: [firmware.flash]: {problem}")
    return FlashTools(**table)


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
    """`name` in the board folder, else in _common/; "<board>/<file>" names another board's file (a QEMU board
    that runs a real board's image)."""
    places = (BOARDS_DIR,) if "/" in name else (folder, COMMON_DIR)
    for place in places:
        if (place / name).is_file():
            return place / name
    raise BadInputError(f"{data_file}: [firmware]: source '{name}' is neither in {folder} nor in {COMMON_DIR}")
