"""Whether a project folder is still the one sapool wrote: `sapool emulate DIR` runs `make` on it, which runs
whatever its Makefile says, so it builds only a project whose files all check out.

At compile time the manifest records the sha256 of every file of the project (`file_hashes`). Before `emulate DIR`
builds, `check_project_files` refuses (one line) a project where a recorded file is missing or differs, or where a
file make could pick up was added: anything outside the compile step's own outputs (build/, tflm/, model.tflite,
report.json/.html and sapool's marker) — a GNUmakefile or a header shadowing a system one would be read by make
or gcc. `--trust-project` skips this for a project the user edited on purpose.

`check_manifest_document` checks every field's JSON type before the manifest is used.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from sapool.errors import BadInputError

# What `sapool compile` writes beside the project's own files (not read by make): never part of the hashes.
COMPILE_OUTPUTS = frozenset({"model.tflite", "report.json", "report.html", "memory_report.txt", ".sapool-output",
                             "sapool_project.json"})
COMPILE_OUTPUT_DIRS = ("build", "tflm")
MAX_PROJECT_FILES = 20_000
TRUST_HINT = "compile the model again, or pass --trust-project to build it as it is"

_OPTIONAL = {"source": (str,), "samples": (dict,), "files": (dict,), "ram_budget_bytes": (int,)}
_REQUIRED = {"model": (str,), "target": (str,), "planned_arena_bytes": (int,), "planned_regions": (list,)}
_REGION_FIELDS = {"name": str, "size_bytes": int, "used_bytes": int}


def file_hashes(files: Mapping[str, str | bytes]) -> dict[str, str]:
    """sha256 (hex) of each file's bytes, by relative path (text as UTF-8, as write_files writes it)."""
    return {path: hashlib.sha256(content if isinstance(content, bytes) else content.encode("utf-8")).hexdigest()
            for path, content in sorted(files.items())}


def check_manifest_document(path: Path, document) -> None:
    """Raise BadInputError naming the first field whose JSON type is wrong."""
    if not isinstance(document, dict):
        raise BadInputError(f"{path}: not a JSON object")
    for name, types in _REQUIRED.items():
        if name not in document:
            raise BadInputError(f"{path}: no {name!r} field")
        _check_type(path, name, document[name], types)
    for name, types in _OPTIONAL.items():
        if document.get(name) is not None:
            _check_type(path, name, document[name], types)
    if document.get("kernels", "reference") not in ("arm", "reference"):
        raise BadInputError(f"{path}: 'kernels' must be \"arm\" or \"reference\"")
    for region in document["planned_regions"]:
        if not isinstance(region, dict) or any(not _is(region.get(key), kind) for key, kind in _REGION_FIELDS.items()):
            raise BadInputError(f"{path}: each of 'planned_regions' must be {{name, size_bytes, used_bytes}}")
    files = document.get("files") or {}
    if not all(isinstance(key, str) and isinstance(value, str) and len(value) == 64 for key, value in files.items()):
        raise BadInputError(f"{path}: 'files' must map relative paths to sha256 hex digests")


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _check_type(path: Path, name: str, value, types: tuple) -> None:
    if not any(_is(value, kind) for kind in types) or (isinstance(value, int) and not 0 <= value < 1 << 40):
        raise BadInputError(f"{path}: {name!r} is {type(value).__name__} {str(value)[:40]!r}, not "
                            f"{' or '.join(kind.__name__ for kind in types)}")


def check_project_files(folder: Path, recorded: Mapping[str, str] | None) -> int:
    """Raise BadInputError unless `folder` holds exactly the recorded files with their recorded hashes (plus the
    compile step's own outputs); returns how many files were checked."""
    folder = Path(folder)
    if not recorded:
        raise BadInputError(f"{folder} has no file hashes in its manifest (written by an older sapool): {TRUST_HINT}")
    for relative, digest in recorded.items():
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or not parts:
            raise BadInputError(f"{folder}: the manifest lists {relative!r}, which is not a path inside the project")
        path = folder / relative
        if not _regular(path):
            raise BadInputError(f"{folder} was changed after sapool wrote it: {relative} is missing or not a "
                                f"regular file; {TRUST_HINT}")
        if _sha256(path) != digest:
            raise BadInputError(f"{folder} was changed after sapool wrote it: {relative} differs from what sapool "
                                f"wrote; {TRUST_HINT}")
    for relative in _project_files(folder):
        if relative not in recorded:
            raise BadInputError(f"{folder} holds {relative}, which sapool did not write (make or gcc could read it); "
                                f"{TRUST_HINT}")
    return len(recorded)


def _project_files(folder: Path) -> list[str]:
    """Every file below `folder` but the compile step's own outputs, as relative POSIX paths."""
    found = []
    for root, folders, names in os.walk(folder):
        relative_root = Path(root).relative_to(folder)
        if relative_root == Path("."):
            folders[:] = [name for name in folders if name not in COMPILE_OUTPUT_DIRS]
            names = [name for name in names if name not in COMPILE_OUTPUTS]
        found += [(relative_root / name).as_posix() for name in names]
        found += [(relative_root / name).as_posix() for name in folders if (Path(root) / name).is_symlink()]
        if len(found) > MAX_PROJECT_FILES:
            raise BadInputError(f"{folder} holds more than {MAX_PROJECT_FILES:,} files; not a sapool project")
    return found


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
