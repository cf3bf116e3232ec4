"""The plan step: declare kernel scratch, plan the int8 graph once into the target's regions, keep the Layout."""

from __future__ import annotations

from sapool.compile_steps.job import CompileJob
from sapool.errors import DoesNotFitError
from sapool.units import format_bytes


def plan(job: CompileJob) -> str:
    """Plan with the native backend's scratch needs declared and its graph (fused ops, a patch stage with
    `--patches auto`), so the report's peak is the firmware's arena (job.layout.graph is then that graph;
    job.graph stays the model's own).

    The backend's op check runs first: an op it lacks is an UnsupportedError naming the op and its index, raised
    before any file is written.
    """
    from sapool.memory.analyze import build_report, regions_for
    from sapool.memory.layout import plan_layout

    request = job.request
    graph = job.graph
    if request.firmware:
        from sapool.backends.c import check_supported, prepare_for_c, scratch_needs

        # the graph the firmware runs (fused ops, patch stage), planned and generated as is
        graph = prepare_for_c(job.graph, request.patches)
        check_supported(graph)
        job.scratch = dict(scratch_needs(graph))
    regions = regions_for(job.target, request.ram_budget)
    job.layout = plan_layout(graph, regions, planner=request.planner, scratch=job.scratch)
    job.report = build_report(job.layout, job.target, model_name=request.model.name,
                              ram_budget=request.ram_budget)
    layout = job.layout
    return (f"peak {format_bytes(layout.peak_arena_bytes)} of activations (lower bound "
            f"{format_bytes(layout.lower_bound_bytes)}), {'fits' if job.report.fits else 'does NOT fit'} "
            f"{request.target}")


def require_fit(job: CompileJob) -> None:
    """Stop before writing anything when the model does not fit, saying what would make it fit."""
    if job.report.fits:
        return
    kind = getattr(job.loaded, "kind", "")
    if kind == "sapool-checkpoint":
        hint = f"`sapool prune {job.request.model} --fit {job.request.target}` would make it fit"
    else:
        hint = "a smaller input size or fewer channels in the source model (or a larger target) would make it fit"
    error = DoesNotFitError(f"{job.report.verdict()}; {hint}. Nothing was written.")
    error.report = job.report  # the CLI prints the per-layer report before the error line, as `sapool plan` does
    raise error
