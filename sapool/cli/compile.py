"""`sapool compile MODEL --target T -o DIR`: a trained model (or an int8 .tflite) to int8, C arrays and firmware.

A thin wrapper over sapool.pipeline: it parses options, shows each step as it runs (with its time) and prints
the summary. Heavy imports (torch, litert, onnx) happen inside the steps that need them.
"""

from __future__ import annotations

from pathlib import Path

import click

from sapool.cli.conventions import (chosen_format, count, emit_json, float_list, format_option, patches_option,
                                    planner_option, rounding_option, target_option, verbosity_options)
from sapool.errors import DoesNotFitError
from sapool.units import parse_bytes


@click.command("compile")
@click.argument("model", type=click.Path(path_type=Path))
@target_option(required=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Output folder (created; must not exist unless --force).")
@click.option("--force", is_flag=True, help="Replace an existing output folder (only once everything succeeded).")
@click.option("--ram-budget", metavar="BYTES", help="Plan into one region of this size instead of the target's SRAM.")
@planner_option
@patches_option
@rounding_option
@click.option("--calib", metavar="DATA",
              help="Calibration images: an image folder, an .npz, 'fashion-mnist', or 'random' (accuracy then "
                   "unmeasured) [default: the data set recorded in the checkpoint].")
@click.option("--calib-samples", type=count(1, 100_000), default=200, show_default=True, help="Calibration images to use.")
@click.option("--calib-mean", metavar="M[,M…]", help="Per-channel mean for models without a recorded normalisation.")
@click.option("--calib-std", metavar="S[,S…]", help="Per-channel std for models without a recorded normalisation.")
@click.option("--eval", "eval_data", metavar="DATA",
              help="Held-out images for float vs int8 accuracy [default: the recorded data set's test split].")
@click.option("--eval-samples", type=count(1, 1_000_000), default=1000, show_default=True, help="Held-out images to score.")
@click.option("--no-offline-plan", is_flag=True,
              help="Do not embed sapool's memory plan in model.tflite as TFLite-Micro's offline plan.")
@click.option("--no-firmware", is_flag=True, help="Only the int8 model and the TFLite-Micro export; no native C.")
@click.option("--no-build", is_flag=True, help="Write the firmware project but do not build it.")
@click.option("--kernels", type=click.Choice(("arm", "reference")),
              help="Kernel set of the firmware project: arm (ACLE SIMD, the default on cores with DSP) or reference "
                   "(portable C99, builds on any compiler, the host included).")
@format_option()
@verbosity_options
def compile_command(model: Path, target: str, output: Path, force: bool, ram_budget: str | None, planner: str,
                    patches: str, rounding: str, calib: str | None, calib_samples: int, calib_mean: str | None, calib_std: str | None,
                    eval_data: str | None, eval_samples: int, no_offline_plan: bool, no_firmware: bool,
                    no_build: bool, kernels: str | None, output_format: str, as_json: bool, quiet: bool, verbose: bool) -> None:
    """Compile MODEL (.pt checkpoint, .pt2, .onnx or int8 .tflite) for a target board.

    Steps: load → calibrate and quantise to full int8 → float vs int8 accuracy → TFLite reference vs
    TFLite-Micro bit-exactness → memory plan for the target → TFLite-Micro export (with sapool's plan embedded)
    → native C firmware project → build with arm-none-eabi-gcc. Writes DIR/model.tflite, DIR/tflm/, the
    firmware project (Makefile, model/, kernels/, firmware/) and DIR/report.{json,html}. Exit 1 when the model
    does not fit (nothing is written). -v also lists the layers whose int8 output departs most from float.

    Example: `sapool compile sapool/pretrained/mcunet_sap_fmnist.pt --target stm32h7 -o out/mcunet`.
    """
    from sapool.compile_steps.job import CompileRequest
    from sapool.compile_steps.summary import render_summary
    from sapool.pipeline import compile_model

    output_format = chosen_format(output_format, as_json)
    request = CompileRequest(
        model=model, target=target, output=output, force=force,
        ram_budget=parse_bytes(ram_budget) if ram_budget is not None else None, planner=planner, patches=patches,
        rounding=rounding,
        calib=calib, calib_samples=calib_samples, calib_mean=float_list(calib_mean, "--calib-mean", -1e3, 1e3),
        calib_std=float_list(calib_std, "--calib-std", 1e-4, 1e3),
        eval_data=eval_data, eval_samples=eval_samples, offline_plan=not no_offline_plan,
        firmware=not no_firmware, build=not no_build, kernels=kernels, quiet=quiet or output_format == "json",
        verbose=verbose)
    try:
        result = compile_model(request, on_step=None if request.quiet else _print_step)
    except DoesNotFitError as error:  # the report first (where the memory goes), then the one error line
        report = getattr(error, "report", None)
        if report is not None:
            _print_report(report, output_format)
        raise
    if output_format == "json":
        emit_json(result.to_dict())
    else:
        click.echo(render_summary(result, verbose=verbose))


def _print_report(report, output_format: str) -> None:
    if output_format == "json":
        from sapool.memory.report_json import to_dict

        emit_json(to_dict(report))
    else:
        from sapool.memory.render_text import to_text

        click.echo(to_text(report))


def _print_step(timing) -> None:
    click.echo(f"  {timing.name:<12} {timing.seconds:6.1f} s  {timing.summary}", err=True)
