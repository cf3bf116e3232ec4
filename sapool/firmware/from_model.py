"""A .tflite → a firmware project's files, through the C backend: the steps `sapool compile` also takes.

sapool.planning.plan_model (the one recipe: the C backend's graph, kernel scratch declared, the target's regions
or the --ram-budget) → check_supported (an unsupported op stops everything before a file is written) → generate.
A plan that does not fit is still generated: its arena is larger than the region, so the link fails with ld's
message naming the region and the bytes over, which is the check a user can reproduce with `make`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sapool.firmware.boards import load_board
from sapool.firmware.memory_map import hardware_map
from sapool.firmware.project import ProjectManifest, default_kernels, project_files
from sapool.firmware.project_samples import StoredSamples
from sapool.ir.graph import Graph
from sapool.ir.read import read_tflite
from sapool.memory.analyze import build_report, regions_for
from sapool.memory.layout import Layout
from sapool.targets import Region, Target


BOARD_IMAGE_SAMPLES = 3  # inputs compiled into the board image when the model ships samples (flash: a few KB each)


@dataclass(frozen=True)
class GeneratedProject:
    files: dict[str, str | bytes]
    graph: Graph
    layout: Layout
    regions: tuple[Region, ...]  # what the arenas were planned into (the target's data regions or the budget)
    manifest: ProjectManifest


def generate_project(model_path: Path, target: Target, *, ram_budget: int | None = None,
                     patches: str = "auto", kernels: str | None = None, rounding: str = "tflm") -> GeneratedProject:
    """Every file of the project for `model_path` on `target` (`patches`: backends/c/prepare.py; `kernels`: the
    kernel set, default the core's); nothing is written."""
    from sapool.backends.c import check_supported
    from sapool.planning import PlanOptions, plan_model

    model_path = Path(model_path)
    layout = plan_model(read_tflite(model_path), target, PlanOptions(ram_budget=ram_budget, patches=patches,
                                                                          rounding=rounding))
    check_supported(layout.graph)
    return project_for_layout(layout, target, model_name=model_path.name, model_bytes=model_path.read_bytes(),
                              ram_budget=ram_budget, source=model_path, kernels=kernels, rounding=rounding)


def project_for_layout(layout: Layout, target: Target, *, model_name: str, model_bytes: bytes,
                       ram_budget: int | None = None, source: Path | None = None,
                       samples: StoredSamples | None = None, info=None,
                       kernels: str | None = None, rounding: str = "tflm") -> GeneratedProject:
    """The project's files for a graph already planned (with the C backend's scratch declared) into `target`'s
    regions or the budget: what `sapool compile` calls after its plan step, so the plan is made once.
    `source` is the .tflite file the graph was read from, when there is one (its shipped samples are then
    found by `sapool emulate DIR`); `samples`, real held-out inputs to store in the project for it; `info`
    (backends.c.ModelInfo), a checkpoint's class names and input normalisation for model.h; `kernels`, the kernel
    set ("arm" or "reference"; default: arm on cores with the DSP extension)."""
    from sapool.backends.c import generate
    from sapool.memory.render_text import to_text

    graph = layout.graph
    regions = regions_for(target, ram_budget)
    report = build_report(layout, target, model_name=model_name, ram_budget=ram_budget)
    manifest = ProjectManifest(
        model=model_name,
        source=str(Path(source).resolve()) if source is not None else None,
        target=target.name,
        kernels=kernels or default_kernels(target),
        ram_budget_bytes=ram_budget,
        planned_arena_bytes=layout.peak_arena_bytes,
        planned_regions=tuple(
            {"name": use.name, "size_bytes": use.size_bytes, "used_bytes": use.used_bytes} for use in layout.regions
        ),
        samples=samples.manifest_entry() if samples is not None else None,
        rounding=rounding,
    )
    board_inputs = samples.rows if samples is not None else _shipped_inputs(source, graph)
    files = project_files(
        generate(graph, layout, info, kernels=manifest.kernels), target, load_board(target.name),
        hardware_map(target, regions),
        manifest=manifest, model_bytes=model_bytes, report_text=to_text(report),
        samples=samples.rows.tobytes() if samples is not None else None,
        board_inputs=[row.tobytes() for row in board_inputs],
    )
    return GeneratedProject(files, graph, layout, regions, manifest)


def _shipped_inputs(source: Path | None, graph: Graph):
    """Up to BOARD_IMAGE_SAMPLES of the real samples shipped beside `source` (none for an unknown model), for the
    board image to run when no held-out images were stored."""
    from sapool.verify.samples import model_inputs

    if source is None:
        return []
    inputs = model_inputs(Path(source), graph, BOARD_IMAGE_SAMPLES)
    return inputs.data[:inputs.shipped]
