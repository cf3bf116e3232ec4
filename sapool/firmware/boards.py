"""Board folders under firmware_templates/: what each board adds to its targets.toml entry.

A board is `firmware_templates/<target name>/board.toml` plus, optionally, its own C files or template overrides;
everything boards share (startup, console, harness, linker script and Makefile templates) is in `_common/`.
Templates are looked up in the board folder first, then in `_common/`, so a board can replace any of them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from sapool.errors import BadInputError, MissingToolError
from sapool.sanitize import JINJA_FILTERS
from sapool.targets import Target

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "firmware_templates"
COMMON_DIR = TEMPLATES_DIR / "_common"
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
    """The board folder for target `name`; a target without one cannot get firmware yet."""
    if not COMMON_DIR.is_dir():
        raise MissingToolError(f"the firmware templates are not installed ({COMMON_DIR} is missing); install sapool "
                               "from its source folder with `pip install -e .`")
    folder = TEMPLATES_DIR / name
    data_file = folder / "board.toml"
    if not data_file.is_file():
        known = ", ".join(sorted(p.parent.name for p in TEMPLATES_DIR.glob("*/board.toml")))
        raise BadInputError(
            f"no firmware template for target '{name}' (no {data_file}); boards with templates: {known}. "
            "See docs/adding_a_board.md"
        )
    try:
        data = tomllib.loads(data_file.read_text())
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"{data_file}: not valid TOML: {err}") from None
    for key in data:
        if key not in _KEYS:
            raise BadInputError(f"{data_file}: unknown key '{key}'; allowed: {', '.join(_KEYS)}")
    for key, (kind, meaning) in _KEYS.items():
        value = data.get(key)
        if (key in _REQUIRED or value is not None) and not _valid(value, kind):
            raise BadInputError(f"{data_file}: '{key}' must be {meaning}, got {value!r}")
    sources = tuple(_find_source(data_file, folder, str(source)) for source in data.get("sources", []))
    return Board(name, folder, data["irq_count"], data["stack_bytes"], sources)


def cpu_flags(target: Target) -> str:
    """gcc's code-generation flags for the target's core and FPU (targets.toml spells them as gcc does)."""
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
    raise BadInputError(f"{data_file}: source '{name}' is neither in {folder} nor in {COMMON_DIR}")
