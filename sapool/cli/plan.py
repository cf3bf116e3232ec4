"""`sapool plan MODEL --target T`: will this model's activations fit, and where does each tensor go?

Prints (or writes with -o) the per-layer memory report as text, JSON or HTML. The report is always produced
first; when the model does not fit, the command then fails with exit code 1 naming the peak layer and the
overflow, so scripts get both the report and the verdict. Only the planner and the flatbuffer reader are
imported here: no torch, no tensorflow, so the command starts fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from sapool.errors import DoesNotFitError
from sapool.outputs import check_output_path, write_text_atomically
from sapool.units import parse_bytes

FORMATS = ("text", "json", "html")


@click.command("plan")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--target", "-t", "target", metavar="NAME", help="Target board (see `sapool targets`).")
@click.option(
    "--ram-budget", metavar="BYTES",
    help="Plan into one region of this many bytes instead of the target's SRAM (e.g. 65536, 64K, 1.5M).",
)
@click.option(
    "--planner", default="best", show_default=True, metavar="NAME",
    help="best, greedy, multi_order or exact.",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here instead of stdout.")
def plan(
    model: Path, target: str | None, ram_budget: str | None, planner: str, output_format: str, output: Path | None
) -> None:
    """Plan MODEL's activation memory and report it layer by layer."""
    from sapool.memory.analyze import analyze

    budget = parse_bytes(ram_budget) if ram_budget is not None else None
    if output is not None:
        check_output_path(output, "report")
    report = analyze(model, target, ram_budget=budget, planner=planner)
    if output is not None:
        write_text_atomically(output, _render(report, output_format))
        click.echo(f"wrote {output_format} report to {output}")
    elif output_format == "text":
        from rich.console import Console

        from sapool.memory.render_text import WIDTH, render

        console = Console()
        if not console.is_terminal:
            console = Console(width=WIDTH)
        console.print(render(report))
    else:
        click.echo(_render(report, output_format), nl=False)
    if not report.fits:
        raise DoesNotFitError(report.verdict())


def _render(report, output_format: str) -> str:
    if output_format == "json":
        from sapool.memory.report import to_json

        return to_json(report)
    if output_format == "html":
        from sapool.memory.render_html import to_html

        return to_html(report)
    from sapool.memory.render_text import to_text

    return to_text(report)
