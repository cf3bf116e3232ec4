"""`sapool train` and `sapool eval`: thin click wrappers over sapool.train.session.

torch is imported inside the command bodies so that `sapool --help`, `plan` and `targets` start fast.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from sapool.cli.conventions import FiniteFloat, chosen_format, count, emit_json, format_option, verbosity_options
from sapool.errors import BadInputError
from sapool.models.config import ARCHS, DOWNSAMPLE, MAX_INPUT_SIZE, MAX_WIDTH, POOLS
from sapool.train.objective_options import AUGMENTATIONS

MAX_BATCH = 65_536
MAX_LR = 10.0

# Options a resumed run takes from its checkpoint; giving them together with --resume would be silently ignored.
THREADS_HELP = "CPU threads per process [default: one per core]; 1 is faster on a machine busy with other work."
FIXED_BY_CHECKPOINT = ("arch", "width", "pool", "downsample", "input_size", "data", "batch_size", "lr", "optimizer",
                       "seed", "subset", "teacher", "kd_temperature", "kd_alpha", "label_smoothing", "augment")
OBJECTIVE_OPTIONS = ("label_smoothing", "teacher", "kd_temperature", "kd_alpha", "augment")


@click.command("train")
@click.option("--arch", type=click.Choice(ARCHS), default="mcunet", show_default=True, help="Network family.")
@click.option("--width", type=FiniteFloat(0, MAX_WIDTH), default=1.0, show_default=True,
              help="Channel width multiplier.")
@click.option("--pool", type=click.Choice(POOLS), default="sap", show_default=True, help="Downsampling layer.")
@click.option("--downsample", type=click.Choice(DOWNSAMPLE), default="aggressive", show_default=True,
              help="Stage strides: standard, or aggressive early downsampling (less activation memory).")
@click.option("--data", default="fashion-mnist", show_default=True,
              help="fashion-mnist (installed), a folder with one sub-folder of images per class, or a .npz file.")
@click.option("--input-size", type=count(16, MAX_INPUT_SIZE), default=64, show_default=True,
              help="Images are resized to this square size (a multiple of 16).")
@click.option("--epochs", type=count(1, 100_000), default=10, show_default=True,
              help="Total epochs (with --resume: the new total).")
@click.option("--batch-size", type=count(1, MAX_BATCH), default=128, show_default=True,
              help="Images per step (per process under torchrun).")
@click.option("--lr", type=FiniteFloat(0, MAX_LR), default=None,
              help="Peak learning rate [default: 0.05 for sgd, 0.002 for adamw].")
@click.option("--optimizer", type=click.Choice(("sgd", "adamw")), default="sgd", show_default=True)
@click.option("--seed", type=count(0, 2 ** 32 - 1), default=0, show_default=True,
              help="Same seed, same data → identical weights on CPU.")
@click.option("--subset", type=count(2), default=None,
              help="Use only N training (and at most N test) images, for quick runs.")
@click.option("--resume", type=click.Path(path_type=Path), default=None, help="Continue training this checkpoint.")
@click.option("--teacher", type=click.Path(path_type=Path), default=None,
              help="Distil from this checkpoint (same classes, channels and input size), e.g. a standard-"
                   "downsampling network teaching an aggressive one.")
@click.option("--kd-temperature", type=FiniteFloat(0, 100), default=4.0, show_default=True,
              help="Softmax temperature T of the distillation term (with --teacher).")
@click.option("--kd-alpha", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Weight of the distillation term; 1 − alpha weighs the cross-entropy (with --teacher).")
@click.option("--label-smoothing", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Label smoothing of the cross-entropy.")
@click.option("--augment", type=click.Choice(AUGMENTATIONS), default="crop-flip", show_default=True,
              help="Training augmentation: padded random crop and left-right flip, crop only (for classes that "
                   "are not mirror-symmetric), or none.")
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto", show_default=True)
@click.option("--sync-bn", is_flag=True,
              help="Under torchrun on CUDA: batch-norm statistics over all processes (SyncBatchNorm).")
@click.option("--threads", type=count(1, 1024), default=None, help=THREADS_HELP)
@click.option("--dry-run", is_flag=True, help="Print the network's per-layer memory, params and MACs; do not train.")
@format_option()
@verbosity_options
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("model.pt"), show_default=True,
              help="Checkpoint to write (after every epoch, atomically).")
@click.pass_context
def train(ctx: click.Context, **options) -> None:
    """Train a small CNN for microcontrollers and save a self-describing checkpoint.

    Example: `sapool train --arch mcunet --pool sap --epochs 5 -o model.pt`. Launch the same command with
    `torchrun --nproc_per_node N sapool train …` (or `torchrun -m sapool train …`) to train on N processes.
    """
    from sapool.train.loop import DEFAULT_LR
    from sapool.train.session import TrainRequest, run_training

    if options["resume"] is not None:
        clashing = [name for name in FIXED_BY_CHECKPOINT
                    if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
        if clashing:
            flags = ", ".join("--" + name.replace("_", "-") for name in clashing)
            raise BadInputError(f"{flags} cannot be combined with --resume: the checkpoint fixes them")
    if options["teacher"] is None:
        orphans = [name for name in ("kd_temperature", "kd_alpha")
                   if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
        if orphans:
            raise BadInputError(f"--{orphans[0].replace('_', '-')} needs --teacher (it tunes the distillation)")
    model = {key: options[key] for key in ("arch", "width", "pool", "downsample", "input_size")}
    as_json = chosen_format(options.pop("output_format"), options.pop("as_json")) == "json"
    if options["dry_run"]:
        _dry_run(model, options["data"], as_json)
        return
    optimizer = options["optimizer"]
    lr = DEFAULT_LR[optimizer] if options["lr"] is None else options["lr"]  # an explicit value is never replaced
    request = TrainRequest(
        output=options["output"],
        epochs=options["epochs"],
        schedule={"batch_size": options["batch_size"], "lr": lr,
                  "optimizer": optimizer, "seed": options["seed"]},
        model=model,
        data=options["data"],
        subset=options["subset"],
        resume=options["resume"],
        objective={key: options[key] for key in OBJECTIVE_OPTIONS},
        sync_bn=options["sync_bn"],
        device=options["device"],
        threads=options["threads"],
        quiet=options["quiet"] or as_json,
    )
    if options["verbose"]:
        click.echo(f"train: {model} on {request.data}, {request.epochs} epochs, {request.schedule}, "
                   f"device {request.device}, writing {request.output}", err=True)
    summary = run_training(request)
    if summary is None:  # a torchrun process other than rank 0
        return
    if as_json:
        emit_json(summary)
    elif not options["quiet"]:
        click.echo(
            f"saved {summary['output']}: test accuracy {summary['test_accuracy']:.1%} (loss {summary['test_loss']:.4f})"
            f" after {summary['epochs']} epochs on {summary['dataset']}, {summary['images_per_second']:.0f} img/s"
        )


def _dry_run(model_options: dict, data: str, as_json: bool) -> None:
    """Build the network the options describe (channels and classes from the data) and print its profile.

    The peak it reports is the planned int8 arena (sapool.models.footprint: the same Layout `sapool plan` makes
    for the exported model); the per-layer input+output maximum is printed too, labelled as the estimate it is.
    """
    from sapool.models.footprint import int8_peak_activation
    from sapool.models.profile import profile_model
    from sapool.data.datasets import load_dataset
    from sapool.train.session import build_network, model_config_for

    config = model_config_for(model_options, load_dataset(data))
    network = build_network(config, seed=0)
    profile = profile_model(network, config)
    footprint = int8_peak_activation(network, config)
    if as_json:
        document = profile.to_dict()
        estimate = {"largest_layer_in_out_bytes": document.pop("peak_activation_bytes"),
                    "layer": document.pop("peak_layer")}
        emit_json({**document, "peak_arena_bytes": footprint.peak_arena_bytes,
                   "lower_bound_bytes": footprint.lower_bound_bytes, "estimate": estimate,
                   "config": config.to_dict()})
    else:
        click.echo(profile.format_text())
        click.echo(f"planned int8 peak arena {footprint.peak_arena_bytes:,} B (lower bound "
                   f"{footprint.lower_bound_bytes:,} B): the figure `sapool plan` gives for the exported model")


@click.command("eval")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--data", default=None, help="Evaluate on this data's test split [default: the data it was trained on].")
@click.option("--batch-size", type=count(1, MAX_BATCH), default=256, show_default=True)
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto", show_default=True)
@click.option("--threads", type=count(1, 1024), default=None, help=THREADS_HELP)
@format_option()
@verbosity_options
def evaluate(checkpoint: Path, data: str | None, batch_size: int, device: str, threads: int | None,
             output_format: str, as_json: bool, quiet: bool, verbose: bool) -> None:
    """Print a checkpoint's test accuracy and loss."""
    from sapool.train.session import run_evaluation

    if verbose:
        click.echo(f"eval: {checkpoint} on {data or 'its training data'}, batch size {batch_size}", err=True)
    result = run_evaluation(checkpoint, data, batch_size, device, threads)
    if chosen_format(output_format, as_json) == "json":
        emit_json(result)
    else:
        click.echo(f"{result['checkpoint']}: test accuracy {result['test_accuracy']:.2%},"
                   f" loss {result['test_loss']:.4f}"
                   f" on {result['test_images']} images of {result['dataset']}")
