"""`sapool prune`: a thin click wrapper over sapool.prune.session.run_pruning.

torch is imported inside the command body so that `sapool --help`, `plan` and `targets` start fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from sapool.cli.conventions import FiniteFloat, chosen_format, count, emit_json, format_option, target_option
from sapool.cli.conventions import verbosity_options
from sapool.cli.train import MAX_BATCH, MAX_LR
from sapool.units import format_bytes, parse_bytes


@click.command("prune")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--ratio", type=FiniteFloat(0, 1, low_open=False, high_open=True), default=None,
              help="Remove this fraction of the channels of every prunable group.")
@target_option("Prune as little as possible until the int8 activations fit this target.", "--fit", "target")
@click.option("--ram-budget", default=None, metavar="BYTES",
              help="Fit this much RAM (e.g. 64K) instead of the target's regions; may be used without --fit.")
@click.option("--strategy", type=click.Choice(("peak", "global")), default=None,
              help="How a fit prunes: only the channel groups live at the peak op, repeated until it fits (peak), "
                   "or one ratio for every group in steps of 0.05 (global). [default: peak]")
@click.option("--criterion", type=click.Choice(("l1", "bn")), default="l1", show_default=True,
              help="Channel importance: L1 norm of its filters, or |BatchNorm gamma|.")
@click.option("--finetune-epochs", type=count(0, 100_000), default=0, show_default=True,
              help="Epochs of fine-tuning after pruning.")
@click.option("--data", default=None, help="Data for fine-tuning and accuracy [default: the checkpoint's dataset].")
@click.option("--subset", type=count(2), default=None, help="Use only N training and N test images (quick runs).")
@click.option("--batch-size", type=count(1, MAX_BATCH), default=64, show_default=True)
@click.option("--lr", type=FiniteFloat(0, MAX_LR), default=0.01, show_default=True,
              help="Peak fine-tuning learning rate (SGD).")
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto", show_default=True)
@click.option("--max-accuracy-drop", type=FiniteFloat(0, 100, low_open=False), default=10.0, show_default=True, metavar="POINTS",
              help="Refuse (exit 1, nothing written) when test top-1 falls by more than this many points.")
@click.option("--force", is_flag=True, help="Write the pruned checkpoint even when accuracy fell more than allowed.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Pruned checkpoint to write.")
@format_option()
@verbosity_options
def prune(model: Path, ratio, target, ram_budget, strategy, criterion, finetune_epochs, data, subset, batch_size, lr,
          device, max_accuracy_drop: float, force: bool, output: Path, output_format: str, as_json: bool, quiet: bool,
          verbose: bool) -> None:
    """Remove whole channels from a trained checkpoint, optionally until its int8 activations fit a target.

    Example: `sapool prune model.pt --fit stm32f4 --finetune-epochs 2 -o pruned.pt`. Reports params, MACs,
    int8 peak activation memory and test accuracy before and after (and before fine-tuning); warns about channel
    groups that lost most of their channels; exits 1 without writing when accuracy fell by more than
    --max-accuracy-drop points (unless --force). The input checkpoint is never modified.
    """
    from sapool.errors import AccuracyLossError
    from sapool.prune.session import PruneRequest, run_pruning

    as_json = chosen_format(output_format, as_json) == "json"
    request = PruneRequest(
        model=model, output=output, ratio=ratio, target=target,
        ram_budget=parse_bytes(ram_budget) if ram_budget is not None else None, strategy=strategy,
        criterion=criterion, finetune_epochs=finetune_epochs, data=data, subset=subset, batch_size=batch_size, lr=lr,
        device=device, quiet=quiet or as_json, max_accuracy_drop=max_accuracy_drop / 100, force=force)
    if verbose:
        click.echo(f"prune: {request}", err=True)
    try:
        summary = run_pruning(request)
    except AccuracyLossError as error:  # the table first, then the one error line
        _show(error.summary, as_json, quiet)
        raise
    _show(summary, as_json, quiet)


def _show(summary: dict, as_json: bool, quiet: bool) -> None:
    if not quiet:
        for warning in summary["warnings"]:
            click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json(summary)
    else:
        click.echo(_text(summary))


def _text(summary: dict) -> str:
    before, after = summary["before"], summary["after"]
    rows = [
        ("params", f"{before['params']:,}", f"{after['params']:,}"),
        ("MACs", f"{before['macs']:,}", f"{after['macs']:,}"),
        ("int8 peak activations", format_bytes(before["peak_arena_bytes"]), format_bytes(after["peak_arena_bytes"])),
        ("test accuracy", f"{before['test_accuracy']:.1%}", f"{after['test_accuracy']:.1%}"),
    ]
    if summary["accuracy"]["after_finetuning"] is not None:
        rows.insert(3, ("  before fine-tuning", "", f"{summary['accuracy']['after_pruning']:.1%}"))
    if after["fits"] is not None:
        rows.append(("fits", _yes(before["fits"]), _yes(after["fits"])))
    lines = [f"{'':<24} {'before':>14} {'after':>14}"]
    lines += [f"{name:<24} {old:>14} {new:>14}" for name, old, new in rows]
    how = [f"strategy {summary['strategy']}"] if summary["strategy"] else []
    how += [f"ratio {summary['ratio']:.2f}"] if summary["ratio"] is not None else []
    lines.append(f"pruned {summary['channels_before'] - summary['channels_after']} of {summary['channels_before']} "
                 f"channels in {summary['groups_pruned']} groups ({', '.join(how)}, {summary['criterion']}); fine-tuned "
                 f"{summary['finetune_epochs']} epoch(s); accuracy on {summary['test_images']} test images; saved "
                 f"{summary['output']}")
    lines += [f"  {group['name']:<40} {group['channels_before']:>5} -> {group['channels_after']:<5} channels "
              f"(-{1 - group['channels_after'] / group['channels_before']:.0%})" for group in summary["groups"]]
    return "\n".join(lines)


def _yes(value) -> str:
    return "yes" if value else "no"
