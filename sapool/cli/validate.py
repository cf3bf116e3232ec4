"""`sapool validate MODEL --data DATA`: how well a model does on labelled data, float and int8 side by side.

Any front end: a sapool checkpoint, a .pt2 or an .onnx (quantised exactly as `sapool compile` does, then float vs
int8), or an int8 .tflite (int8 alone). Classification (integer labels: top-1, per-class accuracy, confusion
matrix) or regression (float targets: mean absolute error), decided by the data (sapool.validate.samples). Text,
JSON or a self-contained HTML page. `sapool eval` stays the training companion: a checkpoint's float test
accuracy and loss, fast and on any device.
"""

from __future__ import annotations

from pathlib import Path

import click

from sapool.cli.conventions import (chosen_format, count, emit, float_list, format_option, output_option,
                                    verbosity_options)
from sapool.errors import BadInputError
from sapool.outputs import check_output_path

FORMATS = ("text", "json", "html")


@click.command("validate")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--data", metavar="DATA",
              help="Labelled samples: 'fashion-mnist', an image folder, or an .npz with x and y (integer y: "
                   "classes; float y: regression targets) [default: the data set a checkpoint records].")
@click.option("--samples", type=count(1, 1_000_000), default=1000, show_default=True,
              help="Score at most this many samples (a fixed subset).")
@click.option("--calib", metavar="DATA",
              help="Calibration images for .pt/.pt2/.onnx, as compile's --calib [default: the recorded data set, "
                   "else the validation samples].")
@click.option("--calib-samples", type=count(1, 100_000), default=200, show_default=True,
              help="Calibration images to use.")
@click.option("--mean", metavar="M[,M…]", help="Per-channel mean of [0, 1] pixels [default: as recorded, else 0].")
@click.option("--std", metavar="S[,S…]", help="Per-channel std of [0, 1] pixels [default: as recorded, else 1].")
@format_option(FORMATS)
@output_option()
@verbosity_options
def validate(model: Path, data: str | None, samples: int, calib: str | None, calib_samples: int, mean: str | None,
             std: str | None, output_format: str, as_json: bool, output: Path | None, quiet: bool,
             verbose: bool) -> None:
    """Score MODEL (.pt checkpoint, .pt2, .onnx or int8 .tflite) on labelled DATA: float vs int8 top-1,
    per-class accuracy and confusion matrix (or mean absolute error), and the per-layer int8 error.

    Example: `sapool validate model.onnx --data test.npz --format html -o validation.html`.
    """
    from sapool.data.datasets import data_file
    from sapool.validate.report import to_dict, to_html, to_text
    from sapool.validate.run import ValidationRequest, validate_model

    output_format = chosen_format(output_format, as_json)
    if output is not None:
        check_output_path(output, "report", inputs=(model, data_file(data), data_file(calib)), allow_stdout=True)
    data = data or _recorded_data(model)
    if verbose:
        click.echo(f"validate: {model} on {data}, {samples} samples", err=True)
    request = ValidationRequest(model=model, data=data, samples=samples, calib=calib, calib_samples=calib_samples,
                                mean=float_list(mean, "--mean", -1e3, 1e3), std=float_list(std, "--std", 1e-4, 1e3),
                                quiet=quiet or (output_format != "text" and output is None), verbose=verbose)
    report = validate_model(request)
    if output_format == "json":
        from sapool.outputs import strict_json

        emit(strict_json(to_dict(report)) + "\n", output, "JSON report")
    elif output_format == "html":
        emit(to_html(report), output, "HTML report")
    else:
        emit(to_text(report, verbose=verbose), output, "text report")


def _recorded_data(model: Path) -> str:
    """A sapool checkpoint's data set; any other model needs --data."""
    from sapool.frontends.load import detect_kind
    from sapool.frontends.loaded import SAPOOL_CHECKPOINT

    if detect_kind(model) == SAPOOL_CHECKPOINT:
        from sapool.train.checkpoint import load_checkpoint

        return load_checkpoint(model).dataset
    raise BadInputError(f"{model} records no data set: pass --data (fashion-mnist, an image folder or an .npz)")
