"""The boards sapool builds for, one folder each, shipped as package data.

`<name>/board.toml` holds everything about target `<name>`: its core, clock and memory map (read by
sapool.targets, used by `sapool targets` and `sapool plan`) and, under `[firmware]`, what a firmware project for
it needs (read by sapool.firmware.boards): vector table size, stack, the board's own C files. `_common/` holds
what boards share: startup, consoles, the QEMU test harness, the standalone board `main`, and the linker script,
Makefile and README templates. A board folder may override any of them by holding a file of the same name.
"""

from importlib import resources
from pathlib import Path

BOARDS_DIR = Path(str(resources.files(__package__)))
COMMON_DIR = BOARDS_DIR / "_common"
BOARD_FILE = "board.toml"


def board_folders(boards_dir: Path = BOARDS_DIR) -> list[Path]:
    """Every folder under `boards_dir` with a board.toml, by name (`_common/` and the like are not boards)."""
    files = Path(boards_dir).glob(f"*/{BOARD_FILE}")
    return sorted(path.parent for path in files if not path.parent.name.startswith("_"))
