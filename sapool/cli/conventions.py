"""The options and output rules every sapool command shares (docs/cli_conventions.md), as click decorators.

- `--format text|json[|html]`, with `--json` kept as a short alias of `--format json`;
- `-o/--output PATH` for reports, where `-` is standard output (sapool.outputs has the file rules);
- `-q/--quiet` and `-v/--verbose`;
- `emit` writes a rendered report to stdout or a file; `emit_json` does the same for a document, always
  strict JSON (sapool.outputs.strict_json: no NaN/Infinity).
A command uses them like this:

    @click.command("thing")
    @format_option(("text", "json"))
    @output_option("Write the report here")
    @verbosity_options
    def thing(output_format, output, quiet, verbose): ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sapool.outputs import is_stdout, strict_json, write_text_atomically


def format_option(formats: tuple[str, ...] = ("text", "json")):
    """`--format` (default text) plus `--json`, an alias kept for scripts written against older versions."""

    def decorate(command):
        command = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(command)
        return click.option("--format", "output_format", type=click.Choice(formats), default="text",
                            show_default=True, help="Report format.")(command)

    return decorate


def chosen_format(output_format: str, as_json: bool) -> str:
    return "json" if as_json else output_format


def output_option(help_text: str = "Write the report here instead of stdout (- is stdout).", **extra):
    return click.option("-o", "--output", type=click.Path(path_type=Path, allow_dash=True), help=help_text, **extra)


def verbosity_options(command):
    command = click.option("-v", "--verbose", is_flag=True, help="Say more about each step.")(command)
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars or chatter.")(command)


def emit(text: str, output: Path | None, description: str) -> None:
    """Write a rendered report: to stdout when `output` is None or `-`, else to the file (atomically).

    A file write is confirmed on stdout with one `wrote …` line. On a stdout that cannot encode the text (an
    ASCII locale), characters it lacks are written as escapes instead of crashing the command.
    """
    if output is None or is_stdout(output):
        echo_safely(text)
        return
    write_text_atomically(output, text)
    click.echo(f"wrote {description} to {output}")


def emit_json(document: dict, output: Path | None = None, description: str = "JSON report") -> None:
    emit(strict_json(document) + "\n", output, description)


def echo_safely(text: str) -> None:
    """click.echo without a trailing newline, degrading characters stdout's encoding cannot hold."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace")
    click.echo(text, nl=False)


def target_option(help_text: str = "Target board, any case (see `sapool targets`).", *names: str, **extra):
    """`--target/-t NAME`, completed in the shell from the board folders; names are checked (any case) when used."""
    return click.option(*(names or ("--target", "-t", "target")), metavar="NAME", help=help_text,
                        shell_complete=complete_target, **extra)


def complete_target(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    from sapool.targets import load_targets

    return [CompletionItem(name, help=target.part) for name, target in load_targets().items()
            if name.startswith(incomplete.lower())]


def planner_option(command):
    """`--planner`, one of best and the registered planners (a click.Choice, so the shell completes it)."""
    from sapool.memory.planners import PLANNERS

    return click.option("--planner", type=click.Choice(("best", *PLANNERS)), default="best", show_default=True,
                        help="best runs greedy, multi_order and exact and keeps the smallest checked plan.")(command)


def patches_option(command):
    """`--patches auto|off`: whether the C backend may run the memory-dominant early stage patch by patch
    (passes/patches.py; auto: when it lowers the activation peak)."""
    return click.option("--patches", type=click.Choice(("auto", "off")), default="auto", show_default=True,
                        help="Run the early stage tile by tile on overlapping patches when that lowers the "
                             "activation peak (auto), or never (off).")(command)


def rounding_option(command):
    """`--rounding tflm|tflite`: which interpreter's FULLY_CONNECTED rounding the firmware matches, for a .tflite
    that keeps FULLY_CONNECTED ops (sapool's own exports have none; docs/architecture.md "One rounding answer")."""
    return click.option("--rounding", type=click.Choice(("tflm", "tflite")), default="tflm", show_default=True,
                        help="FULLY_CONNECTED rounding the firmware matches: tflm (TFLite-Micro and CMSIS-NN, what "
                             "MCUs run) or tflite (LiteRT's reference kernels).")(command)


class FiniteFloat(click.ParamType):
    """A float between low and high (each bound open or closed): NaN and ±inf are refused up front, not discovered
    later as a NaN loss."""

    name = "number"

    def __init__(self, low: float, high: float, low_open: bool = True, high_open: bool = False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def convert(self, value, param, ctx):
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        above = number > self.low if self.low_open else number >= self.low
        below = number < self.high if self.high_open else number <= self.high
        if not (math.isfinite(number) and above and below):
            interval = f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
            self.fail(f"{value} is not in {interval}", param, ctx)
        return number


def count(low: int = 1, high: int = 2 ** 31 - 1) -> click.IntRange:
    """A whole number in [low, high] (batch sizes, epochs, threads …)."""
    return click.IntRange(low, high)


def float_list(text: str | None, option: str, low: float, high: float) -> tuple[float, ...] | None:
    """Comma-separated numbers in [low, high] ("0.5" or "0.485,0.456,0.406"), or None when the option was not
    given. The range keeps out what would break calibration: a std of 0, below 0 or 1e-300 (images scaled to
    ±1e300), or a mean far outside the 0..1 pixel scale."""
    if text is None:
        return None
    import math

    from sapool.errors import BadInputError

    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) for v in values):
        raise BadInputError(f"{option} takes comma-separated numbers (e.g. 0.5 or 0.485,0.456,0.406), got {text!r}")
    if not all(low <= v <= high for v in values):
        raise BadInputError(f"{option} values must lie in [{low:g}, {high:g}], got {text!r}")
    return values
