"""`sapool compile`, the whole compiler as an ordered list of named steps.

Each step reads what earlier steps left in the CompileJob and adds its own artefact; `STEPS` below is the
complete compiler, in order. The in-memory steps (load → quantise → verify → plan) run first, so every error
about the model, the data or the fit is raised before anything is written; the writing steps then fill a
temporary folder that replaces the output folder only when all of them succeed (sapool.output_folders.atomic_directory).
Step bodies live in sapool/compile_steps/, one module per stage, so this file stays the readable summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sapool.compile_steps import emit, front, host_checks, latency, planning
from sapool.compile_steps.chatter import third_party_output
from sapool.compile_steps.job import CompileJob, CompileRequest
from sapool.output_folders import atomic_directory, check_output_folder


@dataclass(frozen=True)
class Step:
    """One named stage. `run` returns a one-line summary for the progress display and is the only part that may
    add warnings; `applies` is a pure check that skips the step, and `skipped`, when given, says why it was
    skipped (the runner adds that warning). `reads` and `makes` name the CompileJob fields the step uses and
    fills (tests/test_pipeline.py checks that every field read was made by an earlier step)."""

    name: str
    run: Callable[[CompileJob], str]
    reads: tuple[str, ...]
    makes: tuple[str, ...]
    applies: Callable[[CompileJob], bool] = field(default=lambda job: True)
    skipped: Callable[[CompileJob], str | None] | None = None
    writes: bool = False  # runs inside the temporary output folder


STEPS: tuple[Step, ...] = (
    Step("load", front.load, (), ("target", "loaded")),
    Step("calibrate", front.calibrate, ("loaded",), ("model_input", "calibration"),
         applies=front.needs_quantisation),
    Step("quantize", front.quantize, ("loaded", "model_input", "calibration"), ("quantized", "tflite"),
         applies=front.needs_quantisation),
    Step("read", front.read_int8_graph, ("loaded", "tflite"), ("tflite", "graph")),
    Step("accuracy", host_checks.accuracy, ("loaded", "model_input", "quantized", "tflite", "graph"), ("accuracy", "held_out"),
         applies=host_checks.has_held_out_data, skipped=host_checks.no_held_out_data),
    Step("verify", host_checks.verify, ("tflite", "graph", "calibration"), ("verification",),
         applies=host_checks.tflm_has_kernels, skipped=host_checks.tflm_lacks_kernels),
    Step("plan", planning.plan, ("target", "loaded", "graph"), ("layout", "tflm_layout", "report", "passes")),
    Step("export-tflm", emit.tflm, ("tflite", "graph", "tflm_layout", "calibration"), ("tflm",),
         applies=host_checks.tflm_has_kernels, writes=True),
    Step("generate-c", emit.native_c, ("target", "loaded", "tflite", "graph", "layout", "held_out"), (),
         applies=emit.wants_firmware, writes=True),
    Step("build", emit.build, ("layout",), ("firmware",), applies=emit.can_build, skipped=emit.no_compiler,
         writes=True),
    Step("latency", latency.trace, ("target", "graph", "calibration", "layout", "firmware"), ("latency",),
         applies=latency.can_trace, skipped=latency.no_emulator, writes=True),
    Step("report", emit.reports, ("loaded", "graph", "accuracy", "verification", "layout", "report", "tflm",
                                  "firmware", "latency"), ("document",), writes=True),
)


@dataclass
class StepTiming:
    name: str
    seconds: float
    summary: str


@dataclass
class CompileResult:
    job: CompileJob
    timings: list[StepTiming]

    def to_dict(self) -> dict[str, Any]:
        """The report.json document, exactly as written to the output folder."""
        return self.job.document


def compile_model(request: CompileRequest, on_step: Callable[[StepTiming], None] | None = None,
                  on_start: Callable[[str], None] | None = None) -> CompileResult:
    """Run every step that applies, in order. Raises a SapoolError at the first failing step; a model that does
    not fit raises DoesNotFitError after the plan step, with nothing written."""
    check_output_folder(request.output, inputs=(request.model, *_data_inputs(request)), force=request.force)
    job = CompileJob(request)
    timings = run_steps(job, [s.name for s in STEPS if not s.writes], on_step, on_start)
    planning.require_fit(job)
    with atomic_directory(Path(request.output), force=request.force) as folder:
        job.folder = folder
        timings += run_steps(job, [s.name for s in STEPS if s.writes], on_step, on_start)
    job.folder = Path(request.output)
    return CompileResult(job, timings)


def run_steps(job: CompileJob, names, on_step: Callable[[StepTiming], None] | None = None,
              on_start: Callable[[str], None] | None = None) -> list[StepTiming]:
    """Run the steps called `names` that apply to `job`, in STEPS order. `sapool validate` runs compile's front
    ("load", then "calibrate", "quantize", "read") this way, so it scores the very int8 model compile makes."""
    timings: list[StepTiming] = []
    for step in (s for s in STEPS if s.name in names):
        if not step.applies(job):
            note = step.skipped(job) if step.skipped is not None else None
            if note:
                job.warnings.append(note)
            continue
        if on_start:
            on_start(step.name)
        started = time.perf_counter()
        with third_party_output(job.request.verbose) as job.terminal:
            line = step.run(job)
        timing = StepTiming(step.name, time.perf_counter() - started, line)
        timings.append(timing)
        job.timings.append((timing.name, timing.seconds))
        if on_step:
            on_step(timing)
    return timings


def _data_inputs(request: CompileRequest) -> list[Path]:
    """The data files and folders the request names (calibration, evaluation): no output may replace them."""
    from sapool.data.datasets import data_file

    specs = (request.calib, request.eval_data)
    return [data_file(spec) for spec in specs if spec is not None and spec != "random"]
