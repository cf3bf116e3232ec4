"""Read and check the targets: the memory-map half of every sapool/boards/<name>/board.toml (fields in
docs/adding_a_board.md; the `[firmware]` table is sapool.firmware.boards' to check).

Checking happens once at load time so that every later user (planner, firmware builder) can trust the data:
a typo in a key, a missing field or two overlapping memory blocks is reported naming the target. Targets are
listed real boards first, fastest clock first, then the QEMU boards.
"""

import difflib
import functools
import tomllib
from pathlib import Path

from sapool.boards import BOARD_FILE, BOARDS_DIR, board_folders
from sapool.errors import BadInputError
from sapool.targets.model import REGION_KINDS, Region, Target
from sapool.units import parse_bytes

_FIELDS = {  # key -> (type, required)
    "part": (str, True),
    "core": (str, True),
    "fpu": (str, True),
    "clock_hz": (int, True),
    "description": (str, True),
    "qemu_machine": (str, True),
    "flash": (dict, True),
    "regions": (list, True),
    "emulated": (bool, False),
    "firmware": (dict, False),  # the firmware half of board.toml, checked by sapool.firmware.boards
}
_TOML_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "a table", list: "a list"}
_REGION_FIELDS = ("name", "base", "size", "kind")
_ADDRESS_LIMIT = 1 << 32


def load_targets(boards_dir: Path | None = None) -> dict[str, Target]:
    """All targets by name: real boards by falling clock, then the emulated ones. Without `boards_dir`, the board
    folders shipped inside the package (sapool/boards/)."""
    return dict(_load_cached(boards_dir))


def get_target(name: str) -> Target:
    """The packaged target called `name` (any case); unknown names get the closest known names as a hint."""
    targets = load_targets()
    if name in targets:
        return targets[name]
    by_lower = {known.lower(): target for known, target in targets.items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(targets), n=3, cutoff=0.75)
    if close:
        raise BadInputError(f"unknown target '{name}'; did you mean: {', '.join(close)}?")
    raise BadInputError(f"unknown target '{name}'; known targets: {', '.join(targets)}")


@functools.cache
def _load_cached(boards_dir: Path | None) -> tuple[tuple[str, Target], ...]:
    boards_dir = BOARDS_DIR if boards_dir is None else Path(boards_dir)
    folders = board_folders(boards_dir)
    if not folders:
        raise BadInputError(f"no board folders (<name>/{BOARD_FILE}) in {boards_dir}")
    targets = []
    for folder in folders:
        path = folder / BOARD_FILE
        where = f"{path.parent.name}/{BOARD_FILE}: target '{folder.name}'"
        targets.append(_parse_target(where, folder.name, read_board_file(path)))
    targets.sort(key=lambda target: (target.emulated, -target.clock_hz, target.name))
    return tuple((target.name, target) for target in targets)


def read_board_file(path: Path) -> dict:
    """The TOML tables of one board.toml; unreadable or invalid files are a BadInputError naming them."""
    try:
        return tomllib.loads(Path(path).read_text())
    except OSError as err:
        raise BadInputError(f"cannot read board file {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"{path}: not valid TOML: {err}") from None


def _parse_target(where: str, name: str, table: dict) -> Target:
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise BadInputError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_FIELDS)}")
    for key, (kind, required) in _FIELDS.items():
        if key not in table:
            if required:
                raise BadInputError(f"{where}: missing key '{key}'")
            continue
        if not _is_type(table[key], kind):
            raise BadInputError(f"{where}: '{key}' must be {_TOML_TYPE_NAMES[kind]}, got {table[key]!r}")
    if table["clock_hz"] <= 0:
        raise BadInputError(f"{where}: clock_hz must be positive")
    flash = _parse_flash(where, table["flash"])
    regions = tuple(
        _parse_region(f"{where}: region #{number}", entry) for number, entry in enumerate(table["regions"], start=1)
    )
    _check_regions(where, flash, regions)
    return Target(
        name=name,
        part=table["part"],
        core=table["core"],
        fpu=table["fpu"],
        clock_hz=table["clock_hz"],
        flash_base=flash.base,
        flash_size=flash.size,
        regions=regions,
        description=table["description"],
        qemu_machine=table["qemu_machine"],
        emulated=table.get("emulated", False),
    )


def _parse_flash(where: str, flash: dict) -> Region:
    if set(flash) != {"base", "size"}:
        got = ", ".join(flash) or "none"
        raise BadInputError(f"{where}: flash must have exactly the keys base and size, got {got}")
    return Region("flash", _address(f"{where}: flash", flash["base"]), _size(f"{where}: flash", flash["size"]), "code")


def _parse_region(where: str, entry) -> Region:
    if not isinstance(entry, dict):
        raise BadInputError(f"{where}: must be a table {{name, base, size, kind}}, got {entry!r}")
    if set(entry) != set(_REGION_FIELDS):
        missing = sorted(set(_REGION_FIELDS) - set(entry))
        extra = sorted(set(entry) - set(_REGION_FIELDS))
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"
        raise BadInputError(f"{where}: needs exactly the keys {', '.join(_REGION_FIELDS)} ({problem})")
    if not isinstance(entry["name"], str) or not entry["name"]:
        raise BadInputError(f"{where}: name must be a non-empty string")
    where = f"{where} ({entry['name']})"
    if entry["kind"] not in REGION_KINDS:
        raise BadInputError(f"{where}: kind must be one of {', '.join(REGION_KINDS)}, got {entry['kind']!r}")
    return Region(entry["name"], _address(where, entry["base"]), _size(where, entry["size"]), entry["kind"])


def _check_regions(where: str, flash: Region, regions: tuple[Region, ...]) -> None:
    names = [region.name for region in regions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BadInputError(f"{where}: region name(s) used twice: {', '.join(duplicates)}")
    if not any(region.kind == "data" for region in regions):
        raise BadInputError(f"{where}: needs at least one region with kind = \"data\"")
    blocks = sorted((flash, *regions), key=lambda region: region.base)
    for region in blocks:
        if region.end > _ADDRESS_LIMIT:
            raise BadInputError(f"{where}: {region.name} ends at {region.end:#x}, past the 32-bit address space")
    for lower, upper in zip(blocks, blocks[1:]):
        if upper.base < lower.end:
            raise BadInputError(
                f"{where}: {lower.name} [{lower.base:#010x}, {lower.end:#010x}) overlaps "
                f"{upper.name} [{upper.base:#010x}, {upper.end:#010x})"
            )


def _address(where: str, value) -> int:
    if not _is_type(value, int) or value < 0:
        raise BadInputError(f"{where}: base must be a non-negative integer, got {value!r}")
    return value


def _size(where: str, value) -> int:
    """Bytes from an integer or a string like "128K" / "2M"."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadInputError(f"{where}: size must be bytes or a string like \"128K\", got {value!r}")
    try:
        return parse_bytes(value)
    except BadInputError as err:
        raise BadInputError(f"{where}: {err}") from None


def _is_type(value, kind: type) -> bool:
    """isinstance, except that TOML booleans do not count as integers."""
    if kind is int and isinstance(value, bool):
        return False
    return isinstance(value, kind)
