"""What `sapool prune` does, as one library call: load, measure, prune (by ratio or to fit), fine-tune, measure,
save a checkpoint that remembers the pruned channel counts.

The pruned architecture is stored in the checkpoint's `train_args["pruned_channels"]` (module name → new sizes,
see models/surgery.py), the one free-form entry the checkpoint format round-trips; checkpoint.restore_model rebuilds it.
Everything the user can get wrong is checked before any work, and the output is written atomically by
save_checkpoint, so a failed run (bad input, does not fit) leaves the input and the output path untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from sapool.errors import AccuracyLossError, BadInputError
from sapool.models.footprint import int8_peak_activation
from sapool.outputs import check_output_path
from sapool.targets import get_target
from sapool.train.checkpoint import PRUNED_CHANNELS_KEY, Checkpoint, load_checkpoint, restore_model, save_checkpoint
from sapool.data.datasets import data_file, load_dataset
from sapool.train.distributed import Workers, choose_device
from sapool.train.loop import Schedule, evaluate, fit, make_optimizer
from sapool.train.progress import TrainingProgress
from sapool.prune.channels import CRITERIA, prune_model
from sapool.prune.fit import STRATEGIES, prune_to_fit

SCHEMA_VERSION = 3  # 3: `accuracy` (before, after pruning, after fine-tuning, drop) and `warnings`
MAX_ACCURACY_DROP = 0.10  # default --max-accuracy-drop: test top-1 may fall 10 points before the run is refused
MOSTLY_PRUNED = 0.75  # a group that loses more than this share of its channels is named in a warning


@dataclass(frozen=True)
class PruneRequest:
    model: Path
    output: Path
    ratio: float | None = None  # either a ratio, or a target and/or a RAM budget to fit
    target: str | None = None
    ram_budget: int | None = None
    criterion: str = "l1"
    strategy: str | None = None  # how a fit spreads the pruning (fit.STRATEGIES); None: "peak" for a fit
    finetune_epochs: int = 0
    data: str | None = None  # default: the checkpoint's dataset
    subset: int | None = None
    batch_size: int = 64
    lr: float = 0.01
    device: str = "auto"
    quiet: bool = False
    max_accuracy_drop: float = MAX_ACCURACY_DROP  # a fraction (0.1 = 10 points of top-1)
    force: bool = False  # keep the pruned model even when it lost more than max_accuracy_drop


def run_pruning(request: PruneRequest) -> dict:
    """Prune the checkpoint at `request.model` into `request.output`; returns the JSON-ready summary."""
    _check_request(request)
    checkpoint = load_checkpoint(request.model)
    model = restore_model(checkpoint)
    dataset = load_dataset(request.data or checkpoint.dataset)
    if dataset.channels != checkpoint.config.in_channels or len(dataset.class_names) != len(checkpoint.class_names):
        raise BadInputError(f"data {dataset.dataset_id} ({dataset.channels} channels, {len(dataset.class_names)} "
                            f"classes) does not match the model")
    train, test = dataset.train, dataset.test
    if request.subset is not None:
        train, test = train.take(request.subset), test.take(request.subset)
    workers = Workers(0, 1, choose_device(request.device))
    config = checkpoint.config

    def measure(network: torch.nn.Module, footprint=None) -> dict:
        footprint = footprint or int8_peak_activation(network, config, target=request.target,
                                                      ram_budget=request.ram_budget, time_limit_s=2.0)
        network.to(workers.device)
        _, accuracy = evaluate(network, test, checkpoint.normalization, config.input_size, 2 * request.batch_size,
                               workers)
        network.to("cpu")
        return {"params": sum(p.numel() for p in network.parameters()), "macs": footprint.macs,
                "peak_arena_bytes": footprint.peak_arena_bytes, "lower_bound_bytes": footprint.lower_bound_bytes,
                "fits": footprint.fits, "test_accuracy": accuracy}

    strategy = None if request.ratio is not None else request.strategy or STRATEGIES[0]
    before = measure(model)
    if request.ratio is not None:
        pruned, report = prune_model(model, request.ratio, request.criterion, input_shape=config)
        footprint = None
    else:
        pruned, report, footprint = prune_to_fit(model, config, target=request.target, ram_budget=request.ram_budget,
                                                 criterion=request.criterion, strategy=strategy)
    after_pruning = None
    if request.finetune_epochs:
        after_pruning = measure(pruned.eval(), footprint)["test_accuracy"]
        _finetune(pruned, train, test, checkpoint, request, workers)
    after = measure(pruned.eval(), footprint)
    drop = before["test_accuracy"] - after["test_accuracy"]

    record = {**checkpoint.train_args.get(PRUNED_CHANNELS_KEY, {}), **report.channel_record}
    summary = {
        "schema_version": SCHEMA_VERSION, "input": str(request.model), "output": str(request.output),
        "criterion": request.criterion, "strategy": strategy, "ratio": report.ratio, "target": request.target,
        "ram_budget_bytes": request.ram_budget, "finetune_epochs": request.finetune_epochs,
        "test_images": len(test), "groups_pruned": sum(1 for group in report.groups if group.removed), "groups_frozen": report.frozen_groups,
        "channels_before": report.channels_before, "channels_after": report.channels_after,
        "groups": [{"name": group.name, "channels_before": group.channels_before, "channels_after": len(group.kept)}
                   for group in report.groups if group.removed],
        "before": before, "after": after,
        "accuracy": {"before": before["test_accuracy"],
                     "after_pruning": after["test_accuracy"] if after_pruning is None else after_pruning,
                     "after_finetuning": None if after_pruning is None else after["test_accuracy"],
                     "drop": drop, "max_drop": request.max_accuracy_drop},
        "warnings": _warnings(report),
    }
    if drop > request.max_accuracy_drop and not request.force:
        error = AccuracyLossError(
            f"test accuracy fell from {before['test_accuracy']:.1%} to {after['test_accuracy']:.1%} ({drop:.1%} "
            f"points, more than --max-accuracy-drop {request.max_accuracy_drop:.1%}); nothing was written: fine-tune "
            f"longer (--finetune-epochs), prune less (a larger budget or ratio), or keep it anyway with --force")
        error.summary = summary  # the CLI prints the before/after table before the error line
        raise error
    metrics = {"test_accuracy": after["test_accuracy"], "prune": {k: summary[k] for k in ("before", "after")}}
    train_args = {**checkpoint.train_args, PRUNED_CHANNELS_KEY: record,
                  "prune": {k: summary[k] for k in ("criterion", "strategy", "ratio", "target", "ram_budget_bytes",
                                                    "finetune_epochs")}}
    state = {name: tensor.detach().cpu().clone() for name, tensor in pruned.state_dict().items()}
    save_checkpoint(Checkpoint(config, state, checkpoint.normalization, checkpoint.class_names, checkpoint.dataset,
                               metrics, train_args, {}), request.output)
    return summary


def _warnings(report) -> list[str]:
    """One line per channel group that lost most of its channels: what usually costs the accuracy."""
    return [f"{group.name} keeps {len(group.kept)} of {group.channels_before} channels "
            f"(-{1 - len(group.kept) / group.channels_before:.0%}): expect accuracy to suffer there"
            for group in report.groups if group.removed and len(group.kept) < (1 - MOSTLY_PRUNED) * group.channels_before]


def _check_request(request: PruneRequest) -> None:
    if (request.ratio is None) == (request.target is None and request.ram_budget is None):
        raise BadInputError("give either --ratio, or --fit TARGET and/or --ram-budget")
    if request.strategy is not None and request.ratio is not None:
        raise BadInputError("--strategy chooses how --fit / --ram-budget prune; it does not apply to --ratio")
    if request.strategy is not None and request.strategy not in STRATEGIES:
        raise BadInputError(f"strategy must be one of {', '.join(STRATEGIES)}; got {request.strategy!r}")
    if request.criterion not in CRITERIA:
        raise BadInputError(f"criterion must be one of {', '.join(CRITERIA)}; got {request.criterion!r}")
    if request.ratio is not None and not 0.0 <= request.ratio < 1.0:
        raise BadInputError(f"--ratio must be in [0, 1), got {request.ratio}")
    if not 0.0 <= request.max_accuracy_drop <= 1.0:
        raise BadInputError(f"--max-accuracy-drop must be between 0 and 100 points, got {request.max_accuracy_drop:.0%}")
    if request.finetune_epochs < 0:
        raise BadInputError(f"--finetune-epochs must be >= 0, got {request.finetune_epochs}")
    if request.subset is not None and request.subset < 2:
        raise BadInputError(f"--subset must be >= 2, got {request.subset}")
    if request.target is not None:
        get_target(request.target)  # an unknown name fails here, before any work
    if request.output is not None and Path(request.output).resolve() == Path(request.model).resolve():
        raise BadInputError("-o must differ from the input checkpoint (the input is never modified)")
    check_output_path(request.output, "checkpoint", inputs=(request.model, data_file(request.data)))


def _finetune(model, train, test, checkpoint: Checkpoint, request: PruneRequest, workers: Workers) -> None:
    """A short SGD run with the training loop (warm-up + cosine), at a lower learning rate than from scratch."""
    seed = int(checkpoint.train_args.get("seed", 0))
    schedule = Schedule(request.finetune_epochs, request.batch_size, request.lr, "sgd", seed)
    model.to(workers.device).train()
    with TrainingProgress(enabled=not request.quiet) as progress:
        fit(model, make_optimizer(model, schedule), train, test, checkpoint.normalization,
            checkpoint.config.input_size, schedule, workers, progress)
    model.to("cpu").eval()

