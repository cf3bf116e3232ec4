"""The loss and augmentation options of a training run, without torch (the CLI imports them to build its options)."""

from __future__ import annotations

from dataclasses import dataclass

from sapool.errors import BadInputError

AUGMENTATIONS = ("crop-flip", "crop", "none")


@dataclass(frozen=True)
class ObjectiveOptions:
    """The loss and augmentation choices of a run; recorded in the checkpoint's train_args so --resume keeps them."""

    label_smoothing: float = 0.0
    teacher: str | None = None
    kd_temperature: float = 4.0
    kd_alpha: float = 0.5
    augment: str = "crop-flip"

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:
            raise BadInputError(f"label smoothing must be in [0, 1), got {self.label_smoothing}")
        if not self.kd_temperature > 0:
            raise BadInputError(f"distillation temperature must be > 0, got {self.kd_temperature}")
        if not 0.0 <= self.kd_alpha <= 1.0:
            raise BadInputError(f"distillation weight alpha must be in [0, 1], got {self.kd_alpha}")
        if self.augment not in AUGMENTATIONS:
            raise BadInputError(f"augmentation must be one of {', '.join(AUGMENTATIONS)}; got {self.augment!r}")

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_train_args(cls, args: dict) -> ObjectiveOptions:
        """The options a checkpoint was trained with (defaults for checkpoints older than these options)."""
        return cls(**{key: args[key] for key in cls.__dataclass_fields__ if key in args})
