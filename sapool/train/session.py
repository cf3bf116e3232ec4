"""What `sapool train` and `sapool eval` do, as library calls: data + model + loop + checkpoint, in order.

Everything a user can get wrong (data, options, output folder, resume file) is checked before the first
training step, so a bad input never touches an existing output file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sapool.errors import BadInputError
from sapool.models.config import ModelConfig
from sapool.outputs import check_output_path
from sapool.train.checkpoint import Checkpoint, load_checkpoint, restore_model, save_checkpoint
from sapool.data.datasets import Dataset, ImageSet, data_file, load_dataset
from sapool.train.distributed import Workers, choose_device, start_workers, stop_workers, use_threads
from sapool.train.loop import EpochResult, Schedule, evaluate, fit, make_optimizer
from sapool.train.objective import Objective, check_teacher
from sapool.train.objective_options import ObjectiveOptions
from sapool.train.progress import TrainingProgress
from sapool.data.transforms import Normalization, channel_statistics

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TrainRequest:
    """A fresh run needs `model` options (arch, pool, downsample, width, input_size) and `data`; a resumed run
    takes them, the data and the schedule from the checkpoint and only asks for the new total `epochs`."""

    output: Path
    epochs: int
    schedule: dict = field(default_factory=dict)  # batch_size, lr, optimizer, seed
    model: dict = field(default_factory=dict)
    data: str = "fashion-mnist"
    subset: int | None = None
    resume: Path | None = None
    objective: dict = field(default_factory=dict)  # ObjectiveOptions: label smoothing, teacher, kd_*, augment
    sync_bn: bool = False  # torchrun on CUDA: batch-norm statistics over all processes
    device: str = "auto"
    threads: int | None = None
    quiet: bool = False


def model_config_for(options: dict, dataset: Dataset) -> ModelConfig:
    """The network config: user options plus what the data decides (channels, number of classes)."""
    return ModelConfig(**options, in_channels=dataset.channels, num_classes=len(dataset.class_names))


def _check_fits(config: ModelConfig, dataset: Dataset, class_names: tuple[str, ...]) -> None:
    if dataset.channels != config.in_channels:
        raise BadInputError(f"data has {dataset.channels}-channel images but the model takes {config.in_channels}")
    if len(dataset.class_names) != len(class_names):
        raise BadInputError(f"data has {len(dataset.class_names)} classes but the model has {len(class_names)}")


def _subset(images: ImageSet, count: int | None) -> ImageSet:
    if count is None:
        return images
    if count < 2:
        raise BadInputError(f"--subset must be >= 2, got {count}")
    return images.take(count)


@dataclass
class _Run:
    """Everything decided before the first step, from the request or from the checkpoint being resumed."""

    dataset: Dataset
    config: ModelConfig
    class_names: tuple[str, ...]
    schedule: Schedule
    train: ImageSet
    test: ImageSet
    normalization: Normalization
    train_args: dict
    objective: ObjectiveOptions
    teacher: Checkpoint | None = None
    resumed: Checkpoint | None = None

    @property
    def first_epoch(self) -> int:
        return int(self.resumed.training_state["epoch"]) if self.resumed else 0


def _plan_run(request: TrainRequest) -> _Run:
    """Check every input (data, options, resume file, output folder) before anything is trained or written."""
    check_output_path(request.output, "checkpoint", inputs=(data_file(request.data),))
    if request.sync_bn and choose_device(request.device).type != "cuda":
        raise BadInputError("--sync-bn needs CUDA devices: torch's SyncBatchNorm has no CPU kernel (on CPU, batch "
                            "norm statistics stay per process)")
    if request.resume is None:
        dataset = load_dataset(request.data)
        config = model_config_for(request.model, dataset)
        schedule = Schedule(epochs=request.epochs, **request.schedule)
        train, test = _subset(dataset.train, request.subset), _subset(dataset.test, request.subset)
        objective = _objective_options(request.objective)
        train_args = {**schedule.__dict__, "data": request.data, "subset": request.subset, **objective.to_dict()}
        return _Run(dataset, config, dataset.class_names, schedule, train, test, channel_statistics(train.images),
                    train_args, objective, _teacher(objective, config))
    resumed = load_checkpoint(request.resume)
    dataset = load_dataset(resumed.dataset)
    _check_fits(resumed.config, dataset, resumed.class_names)
    args = resumed.train_args
    missing = [key for key in ("batch_size", "lr", "optimizer", "seed") if key not in args]
    if missing or "epoch" not in resumed.training_state:
        raise BadInputError(f"{request.resume} cannot be resumed: it records no training schedule/epoch "
                            f"({', '.join(missing) or 'epoch'} missing); start a new run from scratch")
    schedule = Schedule(request.epochs, args["batch_size"], args["lr"], args["optimizer"], args["seed"])
    train, test = _subset(dataset.train, args.get("subset")), _subset(dataset.test, args.get("subset"))
    objective = ObjectiveOptions.from_train_args(args)
    run = _Run(dataset, resumed.config, resumed.class_names, schedule, train, test, resumed.normalization,
               {**args, "epochs": request.epochs}, objective, _teacher(objective, resumed.config), resumed)
    if run.first_epoch >= schedule.epochs:
        raise BadInputError(f"{request.resume} already has {run.first_epoch} epochs; ask for more with --epochs")
    return run


def _objective_options(options: dict) -> ObjectiveOptions:
    """The loss options, with the teacher as an absolute path so that --resume finds it from any folder."""
    teacher = options.get("teacher")
    return ObjectiveOptions(**{**options, "teacher": str(Path(teacher).resolve()) if teacher else None})


def _teacher(options: ObjectiveOptions, config: ModelConfig) -> Checkpoint | None:
    return check_teacher(Path(options.teacher), config) if options.teacher else None


def _objective(run: _Run, device: torch.device) -> Objective:
    if run.teacher is None:
        return Objective(run.objective, run.normalization)
    return Objective(run.objective, run.normalization, restore_model(run.teacher),
                     run.teacher.normalization).to(device)


def run_training(request: TrainRequest) -> dict | None:
    """Train (or resume), writing the checkpoint after every epoch.

    Returns the JSON-ready summary on the main process, None on the other torchrun processes (which stay quiet).
    """
    run = _plan_run(request)
    workers = start_workers(request.device, request.threads)
    try:
        model = restore_model(run.resumed).train() if run.resumed else build_network(run.config, run.schedule.seed)
        model.to(workers.device)
        optimizer = make_optimizer(model, run.schedule)
        if run.resumed and "optimizer" in run.resumed.training_state:
            optimizer.load_state_dict(run.resumed.training_state["optimizer"])
        history = list(run.resumed.metrics.get("history", [])) if run.resumed else []
        train_args = {**run.train_args, "world_size": workers.world_size}
        started = time.perf_counter()

        def save(result: EpochResult) -> None:
            history.append(result.to_dict())
            if workers.is_main:
                state = {"epoch": result.epoch, "optimizer": optimizer.state_dict()}
                metrics = {**result.to_dict(), "history": list(history)}
                save_checkpoint(Checkpoint(run.config, _cpu_state(model), run.normalization, run.class_names,
                                           run.dataset.dataset_id, metrics, train_args, state), request.output)

        with TrainingProgress(enabled=workers.is_main and not request.quiet) as progress:
            results = fit(_wrap_distributed(model, workers, request.sync_bn), optimizer, run.train, run.test, run.normalization,
                          run.config.input_size, run.schedule, workers, progress, run.first_epoch, save,
                          _objective(run, workers.device))
        if not workers.is_main:
            return None
        return {
            "schema_version": SCHEMA_VERSION,
            "output": str(request.output),
            "dataset": run.dataset.dataset_id,
            "config": run.config.to_dict(),
            "epochs": results[-1].epoch,
            "resumed_from_epoch": run.first_epoch if run.resumed else None,
            "train_images": len(run.train),
            "test_images": len(run.test),
            "world_size": workers.world_size,
            "objective": run.objective.to_dict(),
            "seconds": round(time.perf_counter() - started, 3),
            **{k: v for k, v in results[-1].to_dict().items() if k != "epoch"},
        }
    finally:
        stop_workers(workers)


def build_network(config: ModelConfig, seed: int) -> torch.nn.Module:
    """A freshly initialised network; the seed fixes its initial weights."""
    from sapool.models.build import build_model

    torch.manual_seed(seed)
    return build_model(config)


def _wrap_distributed(model: torch.nn.Module, workers: Workers, sync_bn: bool = False) -> torch.nn.Module:
    """DistributedDataParallel under torchrun; with sync_bn, batch norm shares its statistics across processes (its
    layers are swapped for SyncBatchNorm inside the model, whose state-dict keys are BatchNorm2d's, so the checkpoint
    still loads as the plain network)."""
    if not workers.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)

    return DistributedDataParallel(model, device_ids=[workers.device] if workers.device.type == "cuda" else None)


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


def run_evaluation(checkpoint_path: Path, data: str | None = None, batch_size: int = 256, device: str = "auto",
                   threads: int | None = None) -> dict:
    """Test loss and accuracy of a checkpoint on its own dataset's test split (or on `data`'s)."""
    checkpoint = load_checkpoint(checkpoint_path)
    model = restore_model(checkpoint)
    dataset = load_dataset(data or checkpoint.dataset)
    _check_fits(checkpoint.config, dataset, checkpoint.class_names)
    use_threads(threads)
    workers = Workers(0, 1, choose_device(device))
    model.to(workers.device)
    config = checkpoint.config
    loss, accuracy = evaluate(model, dataset.test, checkpoint.normalization, config.input_size, batch_size, workers)
    return {
        "schema_version": SCHEMA_VERSION,
        "checkpoint": str(checkpoint_path),
        "dataset": dataset.dataset_id,
        "test_images": len(dataset.test),
        "test_loss": loss,
        "test_accuracy": accuracy,
    }
