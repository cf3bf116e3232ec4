"""`sapool emulate MODEL|DIR --target T`: run the compiled model in QEMU, bit-exact check, instructions, RAM.

Prints (or writes with -o) the emulation report as text or JSON, then exits 1 when the outputs differ from
TFLite's reference kernels. A model that does not fit the target's RAM (or --ram-budget) fails at link time with
ld's message naming the region and the bytes over (exit 1); missing arm-none-eabi-gcc or qemu-system-arm is
exit 3 with the apt command that installs them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sapool.cli.conventions import (chosen_format, count, emit, format_option, output_option, patches_option,
                                    rounding_option, target_option, verbosity_options)
from sapool.errors import BadInputError, VerificationError
from sapool.outputs import check_output_path
from sapool.text import printable
from sapool.units import parse_bytes

FORMATS = ("text", "json")


@click.command("emulate")
@click.argument("source", metavar="MODEL|DIR", type=click.Path(path_type=Path))
@target_option("Target board, any case (see `sapool targets`); a project folder defaults to the one it was compiled "
               "for.")
@click.option("--ram-budget", metavar="BYTES",
              help="Cap the RAM at one region of this many bytes instead of the target's regions (e.g. 64K).")
@click.option("--inputs", "input_count", type=count(1, 10_000), metavar="N",
              help="Run N inputs: the model's shipped samples first, then seeded random ones (default 10).")
@click.option("--input", "input_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Run the inputs in this file instead (raw int8, back to back).")
@click.option("--kernels", type=click.Choice(("arm", "reference")),
              help="Kernel set to build: arm (ACLE SIMD twins, the default on cores with DSP) or reference "
                   "(portable C).")
@click.option("--trust-project", is_flag=True,
              help="Build a project folder even though its files differ from what sapool wrote (you edited it): "
                   "`make` then runs whatever its Makefile says.")
@patches_option
@rounding_option
@format_option(FORMATS)
@output_option()
@verbosity_options
def emulate(source: Path, target: str | None, ram_budget: str | None, input_count: int | None,
            input_file: Path | None, kernels: str | None, trust_project: bool, patches: str, rounding: str,
            output_format: str,
            as_json: bool, output: Path | None, quiet: bool, verbose: bool) -> None:
    """Build MODEL (an int8 .tflite) or DIR (from `sapool compile`) for the target's core, run it in QEMU and
    report outputs vs TFLite, instructions per layer, RAM measured against the plan and flash.

    DIR is built with `make`, which runs what its Makefile says: only a project whose files are still the ones
    sapool wrote (sha256 in its sapool_project.json) is built; --trust-project builds one you edited."""
    from sapool.firmware.emulate import DEFAULT_INPUTS
    from sapool.firmware.emulate import emulate as run_emulation
    from sapool.firmware.report import to_json, to_text

    if input_count is not None and input_file is not None:
        raise BadInputError("give either --inputs N or --input FILE, not both")
    output_format = chosen_format(output_format, as_json)
    budget = parse_bytes(ram_budget) if ram_budget is not None else None
    if output is not None:
        check_output_path(output, "report", inputs=(source, input_file), allow_stdout=True)
    if verbose:
        click.echo(f"emulate: {source} on {target or 'its compiled target'}, budget {budget}", err=True)
    if source.is_dir() and verbose:
        checked = "as it is (--trust-project)" if trust_project else "after checking its files against its manifest"
        click.echo(f"emulate: runs `make` on {printable(str(source))} {checked}", err=True)
    with tempfile.TemporaryDirectory(prefix="sapool-emulate-") as work_dir, _progress(quiet) as progress:
        report = run_emulation(source, target, Path(work_dir), ram_budget=budget,
                               input_count=input_count or DEFAULT_INPUTS, input_file=input_file, kernels=kernels,
                               patches=patches, rounding=rounding, progress=progress,
                               trust_project=trust_project)
    emit(to_json(report) if output_format == "json" else to_text(report), output, f"{output_format} report")
    if not report.bit_exact:
        raise VerificationError(f"{report.mismatches} of {report.inputs} outputs differ from TFLite's reference "
                                f"kernels (up to {report.max_lsb_diff} LSB)")


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A rich spinner on stderr naming the current step; nothing at all with -q."""
    if quiet:
        yield lambda step: None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield status.update
