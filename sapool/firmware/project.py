"""A firmware project folder: generated model + kernels, the board's firmware files, linker script, Makefile,
README, the memory report and a manifest, written all at once or not at all.

Layout of a project (paths relative to its folder):
    model/…, kernels/…         the generated sources, as `sapool.backends.c.generate` named them (one kernel set)
    model/model.tflite         the model they came from (the reference for `sapool emulate DIR`)
    samples/inputs.bin         held-out inputs, packed as the firmware reads them (compiled from a checkpoint)
    firmware/…                 startup, console, harness, profiler and board files; firmware/linker.ld
    Makefile  README.md  memory_report.txt  sapool_project.json
    CMakeLists.txt, zephyr/…   model/ + kernels/ as a library (CMake target sapool_model, Zephyr module)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from sapool.errors import BadInputError
from sapool.firmware.board_image import SAMPLES_SOURCE, samples_source
from sapool.firmware.boards import IMAGES, Board, cpu_flags
from sapool.firmware.emulator import harness_addresses
from sapool.firmware.memory_map import MemoryMap
from sapool.firmware.project_check import check_manifest_document, file_hashes
from sapool.kernels import kernels_for_core
from sapool.output_folders import atomic_directory
from sapool.outputs import strict_json
from sapool.targets import Target

MANIFEST = "sapool_project.json"
MODEL_COPY = "model/model.tflite"
FIRMWARE_DIR = "firmware"
LINKER_SCRIPT = f"{FIRMWARE_DIR}/linker.ld"
MANIFEST_SCHEMA_VERSION = 1
MAX_MANIFEST_BYTES = 16 << 20
# model/ + kernels/ as a library for an existing project: a CMake target and a Zephyr module (docs/firmware.md)
LIBRARY_FILES = {"CMakeLists.txt": "CMakeLists.txt.j2", "zephyr/module.yml": "zephyr_module.yml.j2",
                 "zephyr/CMakeLists.txt": "zephyr_CMakeLists.txt.j2", "zephyr/Kconfig": "zephyr_Kconfig.j2"}


@dataclass(frozen=True)
class ProjectManifest:
    """What `sapool emulate DIR` needs to know about a project besides its sources."""

    model: str
    target: str
    ram_budget_bytes: int | None
    planned_arena_bytes: int
    planned_regions: tuple[dict, ...]  # {name, size_bytes, used_bytes} per planned region
    source: str | None = None  # absolute path of the .tflite it was compiled from, when known
    kernels: str = "reference"  # the kernel set it carries (model.c's weight order): "arm" or "reference"
    samples: dict | None = None  # {path, count, labels} of the held-out inputs stored (firmware.project_samples)
    files: dict | None = None  # sha256 of every project file but this manifest, by path (firmware.project_check)
    rounding: str = "tflite"  # whose FULLY_CONNECTED rounding the firmware matches (projects before it: LiteRT's)

    def to_json(self) -> str:
        document = {"schema_version": MANIFEST_SCHEMA_VERSION, **asdict(self)}
        document["planned_regions"] = list(self.planned_regions)
        return strict_json(document) + "\n"


def read_manifest(project_dir: Path) -> ProjectManifest:
    path = Path(project_dir) / MANIFEST
    if not path.is_file():  # also refuses a FIFO or device put in its place (reading one would block)
        raise BadInputError(f"{project_dir} is not a sapool project (no regular file {MANIFEST} in it)")
    try:
        document = json.loads(path.read_bytes()[:MAX_MANIFEST_BYTES + 1])
    except (OSError, ValueError, RecursionError) as err:
        raise BadInputError(f"{project_dir} is not a sapool project (cannot read {MANIFEST}: {err})") from None
    if not isinstance(document, dict) or document.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        version = document.get("schema_version") if isinstance(document, dict) else None
        raise BadInputError(f"{path}: unsupported schema_version {version!r}")
    check_manifest_document(path, document)
    fields = {key: document[key] for key in ProjectManifest.__dataclass_fields__ if key in document}
    fields["planned_regions"] = tuple(fields.get("planned_regions", ()))
    try:
        return ProjectManifest(**fields)
    except TypeError as err:
        raise BadInputError(f"{path}: {err}") from None


def project_files(
    generated: Mapping[str, str],
    target: Target,
    board: Board,
    memory_map: MemoryMap,
    *,
    manifest: ProjectManifest,
    model_bytes: bytes,
    report_text: str,
    samples: bytes | None = None,
    board_inputs: Sequence[bytes] = (),
) -> dict[str, str | bytes]:
    """Every file of the project, by relative path; nothing is written yet. `board_inputs` are the inputs compiled
    into the standalone board image (firmware/samples.c; none: one all-zero input)."""
    files: dict[str, str | bytes] = dict(generated)
    for source in board.firmware_files:
        files[f"{FIRMWARE_DIR}/{source.name}"] = source.read_text()
    if board.board_sources:
        files[SAMPLES_SOURCE] = samples_source(board_inputs)
    files[LINKER_SCRIPT] = render_linker_script(board, target, memory_map)
    image_only = {f"{FIRMWARE_DIR}/{name}" for image in IMAGES for name in board.image_sources(image)}
    sources = sorted(path for path in files if path.endswith(".c") and path not in image_only | {SAMPLES_SOURCE})
    include_dirs = sorted({str(PurePosixPath(path).parent) for path in files if path.endswith(".h")})
    files["Makefile"] = board.render(
        "Makefile.j2", part=target.part, core=target.core, cpu_flags=cpu_flags(target),
        irq_count=board.irq_count, sources=sources, include_dirs=include_dirs,
        kernels=manifest.kernels,
        image=board.default_image, flash=board.flash, flash_base=target.flash_base,
        **harness_addresses(target.qemu_machine),
        harness_sources=[f"{FIRMWARE_DIR}/{name}" for name in board.image_sources("harness")],
        board_image_sources=[f"{FIRMWARE_DIR}/{name}" for name in board.image_sources("board")]
        if board.board_sources else [],
    )
    library = sorted(path for path in sources if path.startswith(("model/", "kernels/")))
    library_includes = [folder for folder in include_dirs if folder.startswith(("model", "kernels/"))]
    for path, template in LIBRARY_FILES.items():
        files[path] = board.render(template, model=manifest.model, kernels=manifest.kernels, sources=library,
                                   include_dirs=library_includes)
    files["README.md"] = board.render("README.md.j2", target=target, manifest=manifest, linker_script=LINKER_SCRIPT,
                                      board_image=bool(board.board_sources), flash=board.flash,
                                      console=board.console)
    files[MODEL_COPY] = model_bytes
    if samples is not None:
        files[manifest.samples["path"]] = samples
    files[MANIFEST] = replace(manifest, files=file_hashes(files)).to_json()
    files["memory_report.txt"] = report_text  # rewritten by the compile's report step, so not hashed
    return files


def default_kernels(target: Target) -> str:
    """The kernel set a project for `target` builds by default (arm/ on cores with the DSP extension)."""
    return kernels_for_core(target.core)


def render_linker_script(board: Board, target: Target, memory_map: MemoryMap) -> str:
    return board.render(
        "linker.ld.j2",
        description=target.description,
        flash=memory_map.flash,
        regions=memory_map.arenas,
        system={**asdict(memory_map.system), "separate": memory_map.system_separate},
        stack_bytes=board.stack_bytes,
    )


def write_project(directory: Path, files: Mapping[str, str | bytes], *, force: bool = False) -> None:
    """Write `files` into `directory` all at once (sapool.output_folders.atomic_directory: temporary sibling, rename).

    An existing `directory` is replaced only with `force`, and only after the new one is complete, so a failure at
    any point leaves either the old folder or the new one, never a mix.
    """
    with atomic_directory(Path(directory), force=force, what="project folder") as staging:
        write_files(staging, files)


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> None:
    """Write `files` (relative path → text or bytes) under an existing `folder`, e.g. a temporary output folder."""
    try:
        for relative, content in files.items():
            path = Path(folder) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
    except OSError as err:
        raise BadInputError(f"cannot write {folder}: {err.strerror or err}") from None
