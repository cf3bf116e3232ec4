"""Self-describing checkpoints: everything `sapool compile model.pt` and `sapool eval` need, in one torch file.

On disk a checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
torch.load(weights_only=True) (no arbitrary pickled code). Writes go to a temporary sibling that is renamed into
place, so an interrupted or failed save never leaves a half-written file or damages the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from sapool.errors import BadInputError
from sapool.models.config import ModelConfig
from sapool.outputs import atomic_output, check_output_path
from sapool.data.transforms import Normalization

FORMAT = "sapool-checkpoint"
VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6; sapool never wrote the older pickle format

# train_args entry where `sapool prune` records the pruned architecture (module name -> new sizes).
PRUNED_CHANNELS_KEY = "pruned_channels"


@dataclass
class Checkpoint:
    """A trained network and how it was made. `training_state` (optimizer, epoch, step) is only needed to resume."""

    config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    normalization: Normalization
    class_names: tuple[str, ...]
    dataset: str
    metrics: dict = field(default_factory=dict)
    train_args: dict = field(default_factory=dict)
    training_state: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "state_dict": self.state_dict,
            "normalization": self.normalization.to_dict(),
            "class_names": list(self.class_names),
            "dataset": self.dataset,
            "metrics": self.metrics,
            "train_args": self.train_args,
            "training_state": self.training_state,
        }


def save_checkpoint(checkpoint: Checkpoint, path: Path) -> None:
    """Write atomically (sapool.outputs): an existing file at `path` is replaced whole or not at all."""
    path = Path(path)
    check_output_path(path, "checkpoint")
    with atomic_output(path, "wb") as stream:
        torch.save(checkpoint.to_dict(), stream)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read and validate a checkpoint; anything that is not one of ours raises BadInputError with one clear line."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"checkpoint not found: {path}")
    with path.open("rb") as stream:
        if stream.read(4) != ZIP_MAGIC:
            raise BadInputError(f"{path} is not a torch checkpoint (torch.save writes a zip archive; this is not one)")
    from sapool.zip_limits import open_checked

    try:
        with open_checked(path):  # declared member sizes checked before torch inflates any of them
            pass
    except BadInputError as err:
        raise BadInputError(f"{path} is not a readable torch checkpoint: {str(err).removeprefix(f'{path}: ')}") from None
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated zips, non-torch files and unsafe pickles
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BadInputError(f"{path} is not a readable torch checkpoint ({reason[:160]})") from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BadInputError(f"{path} is not a sapool checkpoint (no 'format': '{FORMAT}' entry); "
                            "make one with sapool train")
    if raw.get("version") != VERSION:
        raise BadInputError(
            f"{path} has checkpoint version {raw.get('version')!r}; this sapool reads version {VERSION}")
    try:
        checkpoint = Checkpoint(
            config=ModelConfig.from_dict(dict(raw["config"])),
            state_dict=_tensor_dict(raw["state_dict"]),
            normalization=Normalization.from_dict(raw["normalization"]),
            class_names=tuple(str(name) for name in raw["class_names"]),
            dataset=str(raw["dataset"]),
            metrics=dict(raw.get("metrics", {})),
            train_args=dict(raw.get("train_args", {})),
            training_state=dict(raw.get("training_state", {})),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise BadInputError(f"{path} is a damaged sapool checkpoint (bad or missing entry: {err})") from err
    _cross_check(path, checkpoint)
    return checkpoint


def _cross_check(path: Path, checkpoint: Checkpoint) -> None:
    """Entries that must agree with each other, and numbers that must be usable, before anything runs on them."""
    import math

    config, normalization = checkpoint.config, checkpoint.normalization
    if len(checkpoint.class_names) != config.num_classes:
        raise BadInputError(f"{path}: {len(checkpoint.class_names)} class names for a model of "
                            f"{config.num_classes} classes (damaged checkpoint)")
    for what, values in (("mean", normalization.mean), ("std", normalization.std)):
        if len(values) != config.in_channels or not all(math.isfinite(v) and abs(v) <= 1e6 for v in values):
            raise BadInputError(f"{path}: normalisation {what} {list(values)[:8]} is not {config.in_channels} "
                                "finite numbers (damaged checkpoint)")
    if not all(1e-6 <= v for v in normalization.std):
        raise BadInputError(f"{path}: normalisation std {list(normalization.std)[:8]} must be positive (at least "
                            "1e-6)")
    for name, tensor in checkpoint.state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise BadInputError(f"{path}: weight {name!r} holds NaN or infinite values")


def _tensor_dict(value) -> dict[str, torch.Tensor]:
    if not isinstance(value, dict) or not all(isinstance(v, torch.Tensor) for v in value.values()):
        raise TypeError("state_dict must map names to tensors")
    return value


def restore_model(checkpoint: Checkpoint) -> torch.nn.Module:
    """Rebuild the network from its config, resized by the pruned-channel record if `sapool prune` wrote one,
    and load the weights; eval mode, on CPU."""
    from sapool.models.build import build_model
    from sapool.models.surgery import apply_channel_record

    model = apply_channel_record(build_model(checkpoint.config), checkpoint.train_args.get(PRUNED_CHANNELS_KEY, {}))
    try:
        model.load_state_dict(checkpoint.state_dict)
    except RuntimeError as err:
        first_line = str(err).strip().splitlines()[0]
        raise BadInputError(f"checkpoint weights do not match its model config ({first_line})") from err
    return model.eval()


def load_model(path: Path) -> tuple[torch.nn.Module, Checkpoint]:
    """The one call other commands (compile, prune) need: the ready network and its checkpoint metadata."""
    checkpoint = load_checkpoint(path)
    return restore_model(checkpoint), checkpoint
