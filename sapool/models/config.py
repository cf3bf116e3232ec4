"""ModelConfig: everything needed to rebuild a network, stored in checkpoints so `sapool compile model.pt` needs nothing else.

Plain data (no torch import), so CLI option parsing and checkpoint inspection stay cheap.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from sapool.errors import BadInputError

ARCHS = ("mcunet", "mbv2", "resnet18")
POOLS = ("sap", "sap-nowin", "max", "avg", "strided", "lip")
DOWNSAMPLE = ("standard", "aggressive")
# Sane limits for networks meant for microcontrollers (far above anything that fits one, far below absurd).
MAX_WIDTH = 8.0
MAX_CLASSES = 10_000
MAX_INPUT_SIZE = 1024


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "mcunet"
    pool: str = "sap"
    downsample: str = "aggressive"
    width: float = 1.0
    in_channels: int = 1
    num_classes: int = 10
    input_size: int = 64
    # SAP hyper-parameters (DESIGN.md §3); ignored by the other pooling methods
    sap_heads: int = 2
    sap_embed_ratio: float = 1.0

    def __post_init__(self) -> None:
        """Configs come from the command line and from checkpoint files: check types and sane limits first, so
        an absurd value (width inf, 2^62 classes) is one error naming the field, not a network that eats the RAM."""
        _choice("arch", self.arch, ARCHS)
        _choice("pool", self.pool, POOLS)
        _choice("downsample", self.downsample, DOWNSAMPLE)
        _number("width", self.width, 0.0, MAX_WIDTH, exclusive_low=True)
        _number("sap_embed_ratio", self.sap_embed_ratio, 0.0, MAX_WIDTH, exclusive_low=True)
        _whole("in_channels", self.in_channels, 1, 3)
        if self.in_channels not in (1, 3):
            raise BadInputError(f"in_channels must be 1 or 3, got {self.in_channels}")
        _whole("num_classes", self.num_classes, 2, MAX_CLASSES)
        _whole("input_size", self.input_size, 16, MAX_INPUT_SIZE)
        if self.input_size % 16:
            raise BadInputError(f"input_size must be a multiple of 16 and >= 16, got {self.input_size}")
        _whole("sap_heads", self.sap_heads, 1, 64)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise BadInputError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


def _number(name: str, value, low: float, high: float, exclusive_low: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (exclusive_low and value == low):
        bound = f"> {low:g}" if exclusive_low else f">= {low:g}"
        raise BadInputError(f"{name} must be a number {bound} and <= {high:g}, got {value!r:.40}")


def _whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInputError(f"{name} must be a whole number from {low} to {high:,}, got {value!r:.40}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise BadInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
