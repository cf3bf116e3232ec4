"""ModelConfig: everything needed to rebuild a network, stored in checkpoints so `sapool compile model.pt` needs nothing else.

Plain data (no torch import), so CLI option parsing and checkpoint inspection stay cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from sapool.errors import BadInputError

ARCHS = ("mcunet", "mbv2", "resnet18")
POOLS = ("sap", "sap-nowin", "max", "avg", "strided", "lip")
DOWNSAMPLE = ("standard", "aggressive")


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
        _choice("arch", self.arch, ARCHS)
        _choice("pool", self.pool, POOLS)
        _choice("downsample", self.downsample, DOWNSAMPLE)
        if not self.width > 0:
            raise BadInputError(f"width must be > 0, got {self.width}")
        if self.in_channels not in (1, 3):
            raise BadInputError(f"in_channels must be 1 or 3, got {self.in_channels}")
        if self.num_classes < 2:
            raise BadInputError(f"num_classes must be >= 2, got {self.num_classes}")
        if self.input_size < 16 or self.input_size % 16:
            raise BadInputError(f"input_size must be a multiple of 16 and >= 16, got {self.input_size}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise BadInputError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise BadInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
