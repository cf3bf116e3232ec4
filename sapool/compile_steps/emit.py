"""The writing steps of `sapool compile`: TFLite-Micro export, native C firmware project, build, reports.

They run inside the temporary output folder (job.folder); the pipeline moves it into place only when all of
them succeeded.
"""

from __future__ import annotations

import shutil

from sapool.compile_steps import summary
from sapool.compile_steps.job import CompileJob
from sapool.outputs import write_json_atomically, write_text_atomically


def tflm(job: CompileJob) -> str:
    """model.tflite (with sapool's plan as TFLite-Micro's offline plan) and the tflm/ C arrays and app."""
    from sapool.backends.tflm.export import write_tflm_export

    job.tflm = write_tflm_export(job.tflite, job.graph, job.tflm_layout, job.folder)
    shortfall = _tflm_arena_shortfall(job)
    if shortfall:  # the estimate fell short (a tiny model's start-up): write the measured figure instead
        job.tflm = write_tflm_export(job.tflite, job.graph, job.tflm_layout, job.folder, measured_shortfall=shortfall)
        job.warnings.append(f"TFLite-Micro needed {shortfall:,} B more arena than estimated for this model; "
                            "tflm/arena_size.h holds the measured figure")
    _check_tflm_arena(job)
    return f"model.tflite + tflm/ (arena {job.tflm.arena_bytes:,} B for TFLite-Micro on a 32-bit MCU)"


def _tflm_arena_shortfall(job: CompileJob) -> int:
    """0 when the predicted host arena runs the export; else how many bytes more TFLite-Micro's interpreter needs
    (its smallest working arena, by bisection, minus the prediction)."""
    from sapool.compile_steps.host_checks import verification_inputs
    from sapool.errors import DoesNotFitError
    from sapool.verify.interpreters import run_model, smallest_tflm_arena

    inputs = [array[:1] for array in verification_inputs(job)]
    try:
        run_model(job.tflm.model_path, inputs, "tflm", arena_size=job.tflm.host_arena_bytes)
    except DoesNotFitError:
        sample = [array[0] for array in inputs]
        return max(0, _working_arena(job, inputs, smallest_tflm_arena(job.tflm.model_path, sample))
                   - job.tflm.host_arena_bytes)
    return 0


ALIGNED_RETRIES = 64  # 1 KiB past the bisected arena at most


def _working_arena(job: CompileJob, inputs, smallest: int) -> int:
    """The first 16-aligned arena from `smallest` on that runs the export. TFLM's need is not monotonic in the
    arena size near its edge: on a LayerNorm MLP the bisected figure, 16-aligned (5,392 B on the host), failed the
    final check with "Too many buffers (max is 15)"."""
    from sapool.errors import DoesNotFitError
    from sapool.memory.lifetimes import aligned
    from sapool.verify.interpreters import run_model

    arena = aligned(smallest, 16)
    for _ in range(ALIGNED_RETRIES):
        try:
            run_model(job.tflm.model_path, inputs, "tflm", arena_size=arena)
            return arena
        except DoesNotFitError:
            arena += 16
    return arena



def _check_tflm_arena(job: CompileJob) -> None:
    """Run the exported model.tflite in the TFLite-Micro interpreter with the arena predicted for this host: an
    under-estimate fails here (DoesNotFitError) instead of on the user's board, and the outputs must match."""
    import numpy as np

    from sapool.compile_steps.inputs import verification_inputs
    from sapool.errors import VerificationError
    from sapool.verify.interpreters import run_model

    inputs = [array[:1] for array in verification_inputs(job)]
    exported = run_model(job.tflm.model_path, inputs, "tflm", arena_size=job.tflm.host_arena_bytes).all_outputs
    original = run_model(job.tflite, inputs, "tflm").all_outputs
    if not all(np.array_equal(a, b) for a, b in zip(exported, original, strict=True)):
        raise VerificationError("the exported model.tflite (with its offline plan) gives other outputs in "
                                "TFLite-Micro than the model it was made from")


def wants_firmware(job: CompileJob) -> bool:
    return job.request.firmware


def native_c(job: CompileJob) -> str:
    """The generated model C, kernels and the board's firmware files: a project that builds with `make`; with
    held-out images (a checkpoint and its data), the first of them as samples/inputs.bin for `sapool emulate`."""
    from sapool.firmware.from_model import project_for_layout
    from sapool.firmware.project import write_files
    from sapool.firmware.project_samples import pack_images

    tflite_given = job.request.model.suffix == ".tflite"  # its shipped samples are then found by `emulate DIR`
    samples = pack_images(job.graph, *job.held_out) if job.held_out is not None else None
    project = project_for_layout(job.layout, job.target, model_name=job.request.model.name,
                                 model_bytes=job.tflite, ram_budget=job.request.ram_budget,
                                 source=job.request.model if tflite_given else None, samples=samples,
                                 info=_model_info(job), kernels=job.request.kernels,
                                 rounding=job.request.rounding)
    write_files(job.folder, project.files)
    stored = f", {len(samples.rows)} held-out samples" if samples is not None else ""
    return f"{len(project.files)} files: model/, kernels/, firmware/, Makefile{stored}"


def _model_info(job: CompileJob):
    """What model.h tells an application beyond the graph: the class names and input normalisation a checkpoint
    recorded (None where the model file does not say)."""
    from sapool.backends.c import ModelInfo

    loaded = job.loaded
    normalization = loaded.normalization if loaded is not None else None
    return ModelInfo(class_names=loaded.class_names if loaded is not None else None,
                     mean=normalization.mean if normalization is not None else None,
                     std=normalization.std if normalization is not None else None)


def can_build(job: CompileJob) -> bool:
    """Build when asked and when arm-none-eabi-gcc is installed (otherwise the project is still written)."""
    return job.request.firmware and job.request.build and shutil.which("arm-none-eabi-gcc") is not None


def no_compiler(job: CompileJob) -> str | None:
    """Why the build is skipped when it was asked for."""
    if job.request.firmware and job.request.build:
        return ("arm-none-eabi-gcc not found: firmware written but not built "
                "(apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    return None


def build(job: CompileJob) -> str:
    """`make` in the project; a plan that does not fit the part fails here at link time, naming the region.

    Flash and static RAM come from the ELF's sections (pyelftools), next to the planner's arena; the model's
    worst-case stack from the compiler's call graphs (firmware.stack_bound)."""
    from sapool.firmware.build import build_firmware
    from sapool.firmware.elf import read_sizes
    from sapool.firmware.report import predicted_ram_bytes
    from sapool.firmware.stack_bound import stack_bound

    elf = build_firmware(job.folder, job.folder / "build")
    sizes, stack = read_sizes(elf), stack_bound(elf.parent)
    job.firmware = {
        "flash_bytes": sizes.flash_bytes,
        "static_ram_bytes": sizes.static_bytes,
        "arena_bytes": sizes.total_arena_bytes,
        "planned_arena_bytes": job.layout.peak_arena_bytes,
        "model_stack_bytes": stack.bytes,
        "predicted_ram_bytes": predicted_ram_bytes(job.layout.peak_arena_bytes, sizes.static_bytes, stack.bytes),
        "harness_ram_bytes": sizes.harness_bytes,
        "stack_reserved_bytes": sizes.stack_reserved_bytes,
    }
    return (f"flash {sizes.flash_bytes:,} B, static RAM {sizes.static_bytes:,} B, arena {sizes.total_arena_bytes:,} B "
            f"(planned {job.layout.peak_arena_bytes:,} B), model stack {stack.bytes:,} B")


def reports(job: CompileJob) -> str:
    from sapool.memory.render_html import to_html

    timings = list(job.timings)  # every step but this one
    job.document = summary.result_document(job, timings)
    write_json_atomically(job.folder / "report.json", job.document)
    write_text_atomically(job.folder / "report.html", to_html(job.report, summary.html_sections(job, timings),
                                                              command="compile", lead=(summary.totals_section(job),)))
    write_text_atomically(job.folder / "memory_report.txt", _report_text(job))
    return "report.json, report.html, memory_report.txt"


def _report_text(job: CompileJob) -> str:
    from sapool.memory.render_text import to_text

    return to_text(job.report)
