"""The plan step: the model planned once by sapool.planning's recipe, kept (and the fit it answers)."""

from __future__ import annotations

from sapool.compile_steps.job import CompileJob
from sapool.errors import DoesNotFitError
from sapool.units import format_bytes


def plan(job: CompileJob) -> str:
    """Plan with sapool.planning's one recipe (the graph the C kernels run, their scratch declared), so the
    report's peak is the firmware's arena and `sapool plan`'s (job.layout.graph is that graph; job.graph stays the
    model's own); with a TFLite-Micro export, derive its offline plan (job.tflm_layout) here too, once.

    With the firmware wanted, the backend's op check runs first: an op it lacks is an UnsupportedError naming the
    op and its index, raised before any file is written.
    """
    from sapool.backends.c import check_supported
    from sapool.backends.tflm.op_resolver import tflm_runs
    from sapool.memory.analyze import build_report
    from sapool.planning import PlanOptions, plan_model, tflm_layout

    request = job.request
    options = PlanOptions(ram_budget=request.ram_budget, planner=request.planner, patches=request.patches,
                          rounding=request.rounding)
    job.layout = plan_model(job.graph, job.target, options)
    job.passes = _pass_effects(job)
    if request.firmware:
        check_supported(job.layout.graph)
    if request.offline_plan and tflm_runs(job.graph):
        job.tflm_layout = tflm_layout(job.graph, job.layout)
    job.report = build_report(job.layout, job.target, model_name=request.model.name,
                              ram_budget=request.ram_budget, source_kind=job.loaded.kind if job.loaded is not None else "tflite-int8")
    layout = job.layout
    return (f"peak {format_bytes(layout.peak_arena_bytes)} of activations (lower bound "
            f"{format_bytes(layout.lower_bound_bytes)}), {'fits' if job.report.fits else 'does NOT fit'} "
            f"{request.target}")


def require_fit(job: CompileJob) -> None:
    """Stop before writing anything when the model does not fit, saying what would make it fit (the report's
    own advice, worded for the front end the model came through)."""
    from sapool.memory.advice import io_over, shrink_hint

    if job.report.fits:
        return
    hint = (io_over(job.report) or shrink_hint(job.report)) if not job.report.ram_fits else \
        "fewer channels, or a target with more flash"
    error = DoesNotFitError(f"{job.report.verdict()}; {hint}. Nothing was written.")
    error.report = job.report  # the CLI prints the per-layer report before the error line, as `sapool plan` does
    raise error


def _pass_effects(job: CompileJob):
    """What each graph pass did to the model before it was planned: ops and bytes live at once, before and after
    (the report's "passes"; the passes run again here with measuring on, so planning itself stays lean)."""
    from sapool.backends.c.prepare import c_kernel_facts
    from sapool.passes.pipeline import PassOptions, run_passes

    options = PassOptions(job.request.patches, job.request.rounding)
    return run_passes(job.graph, options, c_kernel_facts(), measure=True)[1]
