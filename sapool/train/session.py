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
from sapool.train.checkpoint import Checkpoint, load_checkpoint, restore_model, save_checkpoint
from sapool.train.data import Dataset, ImageSet, load_dataset
from sapool.train.distributed import Workers, choose_device, start_workers, stop_workers
from sapool.train.loop import EpochResult, Schedule, evaluate, fit, make_optimizer
from sapool.train.progress import TrainingProgress
from sapool.train.transforms import channel_statistics

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
    device: str = "auto"
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


def run_training(request: TrainRequest) -> dict | None:
    """Train (or resume), writing the checkpoint after every epoch.

    Returns the JSON-ready summary on the main process, None on the other torchrun processes (which stay quiet).
    """
    if not request.output.parent.is_dir():
        raise BadInputError(f"output folder does not exist: {request.output.parent}")
    resumed = load_checkpoint(request.resume) if request.resume else None
    if resumed:
        dataset = load_dataset(resumed.dataset)
        config, class_names = resumed.config, resumed.class_names
        _check_fits(config, dataset, class_names)
        subset = resumed.train_args.get("subset")
        schedule = Schedule(epochs=request.epochs, **{k: resumed.train_args[k] for k in ("batch_size", "lr", "optimizer", "seed")})
        first_epoch = int(resumed.training_state.get("epoch", 0))
        if first_epoch >= schedule.epochs:
            raise BadInputError(f"{request.resume} already has {first_epoch} epochs; ask for more with --epochs")
        data_spec = resumed.train_args["data"]
    else:
        dataset = load_dataset(request.data)
        config, class_names = model_config_for(request.model, dataset), dataset.class_names
        subset, schedule, first_epoch, data_spec = request.subset, Schedule(epochs=request.epochs, **request.schedule), 0, request.data
    train, test = _subset(dataset.train, subset), _subset(dataset.test, subset)
    normalization = resumed.normalization if resumed else channel_statistics(train.images)

    workers = start_workers(request.device)
    try:
        model = restore_model(resumed).train() if resumed else build_network(config, schedule.seed)
        model.to(workers.device)
        optimizer = make_optimizer(model, schedule)
        if resumed and "optimizer" in resumed.training_state:
            optimizer.load_state_dict(resumed.training_state["optimizer"])
        trained = _wrap_distributed(model, workers)
        history = list(resumed.metrics.get("history", [])) if resumed else []
        train_args = {**schedule.__dict__, "data": data_spec, "subset": subset, "world_size": workers.world_size}
        started = time.perf_counter()

        def save(result: EpochResult) -> None:
            history.append(result.to_dict())
            if workers.is_main:
                state = {"epoch": result.epoch, "optimizer": optimizer.state_dict()}
                metrics = {**result.to_dict(), "history": list(history)}
                checkpoint = Checkpoint(config, _cpu_state(model), normalization, class_names, dataset.dataset_id,
                                        metrics, train_args, state)
                save_checkpoint(checkpoint, request.output)

        with TrainingProgress(enabled=workers.is_main and not request.quiet) as progress:
            results = fit(trained, optimizer, train, test, normalization, config.input_size, schedule, workers,
                          progress, first_epoch=first_epoch, on_epoch_end=save)
        final = results[-1]
        if not workers.is_main:
            return None
        return {
            "schema_version": SCHEMA_VERSION,
            "output": str(request.output),
            "dataset": dataset.dataset_id,
            "config": config.to_dict(),
            "epochs": final.epoch,
            "resumed_from_epoch": first_epoch if resumed else None,
            "train_images": len(train),
            "test_images": len(test),
            "world_size": workers.world_size,
            "seconds": round(time.perf_counter() - started, 3),
            **{k: v for k, v in final.to_dict().items() if k != "epoch"},
        }
    finally:
        stop_workers(workers)


def build_network(config: ModelConfig, seed: int) -> torch.nn.Module:
    """A freshly initialised network; the seed fixes its initial weights."""
    from sapool.models.build import build_model

    torch.manual_seed(seed)
    return build_model(config)


def _wrap_distributed(model: torch.nn.Module, workers: Workers) -> torch.nn.Module:
    if not workers.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[workers.device] if workers.device.type == "cuda" else None)


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


def run_evaluation(checkpoint_path: Path, data: str | None = None, batch_size: int = 256, device: str = "auto") -> dict:
    """Test loss and accuracy of a checkpoint on its own dataset's test split (or on `data`'s)."""
    checkpoint = load_checkpoint(checkpoint_path)
    model = restore_model(checkpoint)
    dataset = load_dataset(data or checkpoint.dataset)
    _check_fits(checkpoint.config, dataset, checkpoint.class_names)
    workers = Workers(0, 1, choose_device(device))
    model.to(workers.device)
    loss, accuracy = evaluate(model, dataset.test, checkpoint.normalization, checkpoint.config.input_size, batch_size, workers)
    return {
        "schema_version": SCHEMA_VERSION,
        "checkpoint": str(checkpoint_path),
        "dataset": dataset.dataset_id,
        "test_images": len(dataset.test),
        "test_loss": loss,
        "test_accuracy": accuracy,
    }
