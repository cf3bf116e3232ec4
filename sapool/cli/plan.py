"""`sapool plan MODEL --target T`: will this model's activations fit, and where does each tensor go?

Prints (or writes with -o) the per-layer memory report as text, JSON or HTML. The report is always produced
first; when the model does not fit, the command then fails with exit code 1 naming the peak layer and the
overflow, so scripts get both the report and the verdict. Only the planner and the flatbuffer reader are
imported here: no torch, no tensorflow, so the command starts fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from sapool.cli.conventions import (emit, output_option, patches_option, planner_option, rounding_option,
                                    target_option, verbosity_options)
from sapool.errors import DoesNotFitError
from sapool.outputs import check_output_path, is_stdout
from sapool.units import parse_bytes

FORMATS = ("text", "json", "html")


@click.command("plan")
@click.argument("model", type=click.Path(path_type=Path))
@target_option()
@click.option(
    "--ram-budget", metavar="BYTES",
    help="Plan into one region of this many bytes instead of the target's SRAM (e.g. 65536, 64K, 1.5M).",
)
@planner_option
@patches_option
@rounding_option
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@output_option()
@verbosity_options
def plan(model: Path, target: str | None, ram_budget: str | None, planner: str, patches: str, rounding: str,
         output_format: str,
         as_json: bool, output: Path | None, quiet: bool, verbose: bool) -> None:
    """Plan MODEL's activation memory and report it layer by layer."""
    from sapool.planning import PlanOptions, plan_file

    output_format = "json" if as_json else output_format
    budget = parse_bytes(ram_budget) if ram_budget is not None else None
    if output is not None:
        check_output_path(output, "report", inputs=(model,), allow_stdout=True)
    report = plan_file(model, target, PlanOptions(ram_budget=budget, planner=planner, patches=patches,
                                                        rounding=rounding))
    if verbose:
        click.echo(f"planned {len(report.layers)} ops in {report.elapsed_s:.3f} s", err=True)
    if output_format == "text" and (output is None or is_stdout(output)):
        _print_text(report)
    elif not (quiet and output is None):
        emit(_render(report, output_format), output, f"{output_format} report")
    if not report.fits:
        raise DoesNotFitError(report.verdict())


def _print_text(report) -> None:
    """The text report on a console: colours on a terminal (none with NO_COLOR), ASCII symbols off UTF-8."""
    from rich.console import Console

    from sapool.memory.render_text import WIDTH, render

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(width=WIDTH, highlight=False)
    console.print(render(report, ascii_only=not console.encoding.lower().startswith("utf")))


def _render(report, output_format: str) -> str:
    if output_format == "json":
        from sapool.memory.report_json import to_json

        return to_json(report)
    if output_format == "html":
        from sapool.memory.render_html import to_html

        return to_html(report)
    from sapool.memory.render_text import to_text

    return to_text(report)
