"""The hand-written fixture models (tests/fixtures/firmware/) as projects, and the tiny model's numpy oracle.

tiny_model: two real layers (dense + ReLU, max); counted_loop: one layer of a known instruction count."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from sapool.firmware.boards import load_board
from sapool.firmware.memory_map import hardware_map
from sapool.firmware.project import ProjectManifest, project_files, write_project
from sapool.targets import Region, Target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firmware"
COUNTED_LOOP_INSTRUCTIONS = 200_000  # counted_loop/model.c: 100000 x (subs, bne)
INPUT_BYTES, OUTPUT_BYTES = 16, 4
WEIGHTS = np.array([[((16 * j + i) * 37 % 255) - 127 for i in range(16)] for j in range(8)], dtype=np.int32)
BIAS = np.array([(523 * j % 2001) - 1000 for j in range(8)], dtype=np.int32)


def require_firmware_tools() -> None:
    """Skip (with the install command) where the cross toolchain or QEMU is missing; `make setup` installs them."""
    for tool in ("make", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (make setup installs it)")


def expected_output(data: bytes) -> bytes:
    """What the fixture's two layers compute: dense + ReLU with a >> 6 requantisation, then pairwise max."""
    x = np.frombuffer(data, dtype=np.int8).astype(np.int32)
    hidden = np.clip((WEIGHTS @ x + BIAS) >> 6, 0, 127)
    return hidden.reshape(4, 2).max(axis=1).astype(np.int8).tobytes()


def fixture_sources(fixture: str, region: str, arena_bytes: int = 32) -> dict[str, str]:
    return {
        f"model/{path.name}": path.read_text().replace("@REGION@", region).replace("@ARENA_BYTES@", str(arena_bytes))
        for path in sorted((FIXTURES / fixture).iterdir())
    }


def write_fixture_project(
    directory: Path,
    target: Target,
    regions: Sequence[Region] | None = None,
    *,
    fixture: str = "tiny_model",
    arena_bytes: int = 32,
) -> Path:
    """A complete project for `target` with the fixture model's arena in the first of `regions`."""
    write_project(directory, fixture_files(target, regions, fixture=fixture, arena_bytes=arena_bytes))
    return directory


def fixture_files(
    target: Target,
    regions: Sequence[Region] | None = None,
    *,
    fixture: str = "tiny_model",
    arena_bytes: int = 32,
) -> dict[str, str | bytes]:
    """The project files of a fixture model for `target` (see write_fixture_project)."""
    regions = tuple(regions or target.data_regions)
    manifest = ProjectManifest(
        model=fixture, target=target.name, ram_budget_bytes=None, planned_arena_bytes=arena_bytes,
        planned_regions=({"name": regions[0].name, "size_bytes": regions[0].size, "used_bytes": arena_bytes},),
    )
    return project_files(
        fixture_sources(fixture, regions[0].name, arena_bytes), target, load_board(target.name),
        hardware_map(target, regions), manifest=manifest, model_bytes=b"", report_text="(fixture: no report)\n",
    )
