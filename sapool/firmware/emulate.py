"""`sapool emulate`: build a model's firmware for its target's core, run it in QEMU, check it against TFLite.

The source is either an int8 .tflite (compiled here through the C backend into a scratch project) or a project
folder written by `sapool compile` (its sources are built unchanged). Steps, each reported to `progress`:
tools present → project → build on the QEMU board with the target's RAM sizes → run every input → TFLite's
reference kernels on the same inputs → compare bit for bit → RAM and flash from the ELF against the plan.
Models may have several inputs and outputs, int8 or float32 (a float interface): inputs and outputs travel as
packed rows (sapool.verify.packing) and are compared byte for byte, so a float output made by DEQUANTIZE must be
the interpreter's very float; differences are reported in LSB of the int8 values. A project compiled from a
checkpoint carries labelled held-out inputs (firmware.project_samples): they run first, and when the model's output
is one class vector the report also counts how many of them the firmware classified right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.errors import BadInputError
from sapool.firmware.emulation import EmulationRun, emulate_project
from sapool.firmware.from_model import generate_project
from sapool.firmware.latency import Latency, measure_latency
from sapool.firmware.project import MODEL_COPY, ProjectManifest, read_manifest, write_project
from sapool.firmware.project_check import check_project_files
from sapool.firmware.project_samples import StoredSamples, read_stored_samples
from sapool.firmware.report import EmulationReport, LayerFigures, RamFigures, predicted_ram_bytes
from sapool.firmware.toolchain import require_build_tools, require_emulator
from sapool.ir.graph import Graph
from sapool.ir.read import read_tflite
from sapool.memory.analyze import regions_for
from sapool.targets import Region, Target, get_target
from sapool.verify.packing import in_lsb, pack, sample_shape, unpack
from sapool.verify.samples import Inputs, inputs_from_file, model_inputs

DEFAULT_INPUTS = 10


@dataclass(frozen=True)
class _Project:
    folder: Path
    model_path: Path
    samples_from: Path  # the model file whose shipped samples (if any) are used: the original, when known
    target: Target
    regions: tuple[Region, ...]
    manifest: ProjectManifest


def emulate(
    source: Path,
    target_name: str | None,
    work_dir: Path,
    *,
    ram_budget: int | None = None,
    input_count: int = DEFAULT_INPUTS,
    input_file: Path | None = None,
    kernels: str | None = None,
    patches: str = "auto",
    rounding: str = "tflm",
    progress: Callable[[str], None] = lambda step: None,
    trust_project: bool = False,
) -> EmulationReport:
    """Emulate `source` (a .tflite or a project folder) for `target_name`; scratch files go into `work_dir`.
    `kernels` ("arm" or "reference") generates a .tflite for that kernel set instead of the core's default; a
    project folder carries one set (its model.c holds the weights in that set's order), so asking it for the other
    is an error."""
    require_build_tools()
    require_emulator()
    progress("generating the C model" if Path(source).is_file()
             else "checking the project's files against its manifest before running `make` on it")
    project = _project(Path(source), target_name, ram_budget, Path(work_dir), patches, kernels, trust_project,
                       rounding)
    graph = read_tflite(project.model_path)
    stored = read_stored_samples(project.folder, project.manifest.samples, graph) if input_file is None else None
    inputs = inputs_from_file(input_file, graph) if input_file is not None else model_inputs(
        project.samples_from, graph, input_count, stored=stored.rows if stored is not None else None)
    progress(f"building for {project.target.name} and running {len(inputs.data)} inputs in QEMU")
    run = emulate_project(project.folder, project.target, project.regions, [row.tobytes() for row in inputs.data],
                          Path(work_dir) / "emulation")
    progress(f"tracing one inference for {project.target.name}'s cycle model")
    latency = measure_latency(project.folder, project.target, project.regions, inputs.data[0].tobytes(),
                              len(run.run.layers), Path(work_dir) / "latency", harness_elf=run.elf)
    progress("running TFLite's reference kernels")
    reference = _reference_outputs(project.model_path, graph, inputs, project.manifest.rounding)
    return _report(project, graph, inputs, run, reference, stored, latency)


def _project(source: Path, target_name: str | None, ram_budget: int | None, work_dir: Path,
             patches: str, kernels: str | None, trust_project: bool = False, rounding: str = "tflm") -> _Project:
    if source.is_dir():
        manifest = read_manifest(source)
        if not trust_project:  # `make` runs what the folder says: only a project sapool wrote, unchanged
            check_project_files(source, manifest.files)
        if kernels is not None and kernels != manifest.kernels:
            raise BadInputError(f"{source} carries the {manifest.kernels} kernels (its model.c holds the weights in "
                                f"their order); compile the model again with --kernels {kernels}")
        if target_name is not None and target_name != manifest.target:
            raise BadInputError(f"{source} was compiled for {manifest.target}; emulate it with --target "
                                f"{manifest.target} or compile the model again for {target_name}")
        target = get_target(manifest.target)
        if ram_budget is not None and manifest.ram_budget_bytes is None:
            raise BadInputError(f"{source} was planned for {target.name}'s RAM regions; --ram-budget needs a project "
                                "compiled with --ram-budget (or emulate the .tflite with --ram-budget)")
        budget = ram_budget if ram_budget is not None else manifest.ram_budget_bytes
        original = Path(manifest.source) if manifest.source else None
        samples_from = original if original is not None and original.is_file() else source / MODEL_COPY
        return _Project(source, source / MODEL_COPY, samples_from, target, regions_for(target, budget), manifest)
    if not source.exists():
        raise BadInputError(f"{source} does not exist (give an int8 .tflite or a folder written by sapool compile)")
    if target_name is None:
        raise BadInputError("give --target (the board to emulate) for a .tflite model")
    target = get_target(target_name)
    generated = generate_project(source, target, ram_budget=ram_budget, patches=patches, kernels=kernels,
                                 rounding=rounding)
    folder = work_dir / "project"
    write_project(folder, generated.files)
    return _Project(folder, source, source, target, generated.regions, generated.manifest)


def _reference_outputs(model_path: Path, graph: Graph, inputs: Inputs, rounding: str) -> np.ndarray:
    """Every graph output of TFLite's reference kernels, packed as the firmware writes them, one row per input;
    with rounding "tflm" each FULLY_CONNECTED runs there as the 1×1 CONV_2D the firmware runs (TFLite-Micro's
    rounding, passes/fc_as_conv.py)."""
    from sapool.verify.interpreters import reference_model, run_model

    model = reference_model(Path(model_path).read_bytes(), rounding)
    return pack(run_model(model, unpack(graph, graph.inputs, inputs.data), "litert-ref").all_outputs)


def _classified_right(graph: Graph, firmware: np.ndarray, stored: StoredSamples | None) -> tuple[int, int | None]:
    """(labelled inputs run, how many of them the firmware's output argmax equals the label); (0, None) without
    labels or when the model's output is not one class vector."""
    outputs = graph.outputs
    if stored is None or len(outputs) != 1:
        return 0, None
    shape = sample_shape(graph.tensor(outputs[0]))
    if len(shape) < 1 or shape[-1] < 2 or int(np.prod(shape)) != shape[-1]:
        return 0, None
    labelled = min(len(stored.labels), len(firmware))
    predicted = firmware[:labelled].argmax(axis=1)
    return labelled, int((predicted == np.asarray(stored.labels[:labelled])).sum())


def _report(project: _Project, graph: Graph, inputs: Inputs, run: EmulationRun, reference: np.ndarray,
            stored: StoredSamples | None, latency: Latency):
    count = len(inputs.data)
    rows = np.stack([np.frombuffer(output, dtype=np.int8) for output in run.run.outputs])
    if rows.shape != reference.shape:
        raise BadInputError(f"the firmware's outputs have shape {rows.shape}, TFLite's {reference.shape}")
    firmware, expected = (in_lsb(graph, graph.outputs, unpack(graph, graph.outputs, r)) for r in (rows, reference))
    differences = np.abs(firmware - expected)
    labelled, classified_right = _classified_right(graph, firmware, stored)
    differing_rows = (rows != reference).any(axis=1)  # bytes: a float output must be the very same float
    # the firmware's layers are the C backend's ops (fused chains and patch stages are one layer each), named
    # "<index> <opcode> <op name's tail>" in model.c
    layers = tuple(
        LayerFigures(layer.index, *_op_and_name(layer.name), layer.macs, round(layer.instructions / count),
                     latency.layer_cycles[position])
        for position, layer in enumerate(run.run.layers)
    )
    sizes = run.sizes
    stack = run.run.model_stack_bytes
    planned = {region["name"]: region for region in project.manifest.planned_regions}
    ram = RamFigures(
        planned_bytes=project.manifest.planned_arena_bytes,
        predicted_bytes=predicted_ram_bytes(project.manifest.planned_arena_bytes, sizes.static_bytes,
                                            run.stack.bytes),
        measured_bytes=sizes.total_arena_bytes + sizes.static_bytes + stack,
        arena_bytes=sizes.total_arena_bytes,
        static_bytes=sizes.static_bytes,
        stack_bytes=stack,
        stack_bound_bytes=run.stack.bytes,
        stack_high_water_bytes=run.run.stack_high_water_bytes,
        stack_reserved_bytes=run.run.stack_reserved_bytes,
        harness_bytes=sizes.harness_bytes,
        regions=tuple(
            {"name": region.name, "size_bytes": region.size,
             "planned_bytes": planned.get(region.name, {}).get("used_bytes", 0),
             "measured_bytes": sizes.arena_bytes.get(region.name, 0)}
            for region in project.regions
        ),
    )
    return EmulationReport(
        model=project.manifest.model,
        target=project.target.name,
        board=run.board.name,
        qemu_machine=run.board.qemu_machine,
        kernels=project.manifest.kernels,
        inputs=count,
        inputs_description=inputs.description,
        bit_exact=not differing_rows.any(),
        mismatches=int(differing_rows.sum()),
        max_lsb_diff=int(differences.max(initial=0)),
        instructions_total=round(sum(run.run.instructions_per_input) / count),
        macs=sum(layer.macs for layer in run.run.layers),
        layers=layers,
        ram=ram,
        flash_bytes=sizes.flash_bytes,
        flash_size_bytes=project.target.flash_size,
        labelled_inputs=labelled,
        classified_right=classified_right,
        latency=latency.to_dict(),
    )


def _op_and_name(label: str) -> tuple[str, str]:
    """("CONV_2D", "conv2d_1/Relu") from sapool_layer_names' "3 CONV_2D conv2d_1/Relu" (the name may be absent)."""
    _, _, rest = label.partition(" ")
    op, _, name = rest.partition(" ")
    return op or label, name
