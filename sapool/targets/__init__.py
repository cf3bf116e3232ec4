"""The target database: microcontrollers with their core, clock, flash and RAM regions (sapool/boards/*/board.toml)."""

from sapool.targets.load import get_target, load_targets
from sapool.targets.model import Region, Target, budget_region

__all__ = ["Region", "Target", "budget_region", "get_target", "load_targets"]
