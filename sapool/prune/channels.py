"""Structured channel pruning: remove whole channels (smaller Conv2d / BatchNorm / Linear modules, not masks).

`prune_model(model, ratio, criterion)` removes round(ratio · C) channels from every prunable channel group
(groups.channel_groups: residual sums, depthwise convs and SAP layers couple channels; model inputs and
outputs stay); `prune_channels` removes a chosen number per group instead. A channel's importance is the L1 norm
of every filter that produces it (`l1`) or the sum of |γ| of the BatchNorms on it (`bn`), summed over the group,
so a residual channel is judged on all its producers. Fitting a RAM budget is fit.py's job. The input model is
never modified; the result carries a channel record for checkpoints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from sapool.errors import BadInputError
from sapool.models.footprint import input_shape_of
from sapool.prune.groups import BLOCK, DEPTHWISE, IN, NORM, OUT, ChannelGroup, channel_groups
from sapool.models.surgery import channel_record, slice_modules

CRITERIA = ("l1", "bn")


@dataclass(frozen=True)
class PrunedGroup:
    """One group's outcome: its name (first producing module), the modules tied together, the channels it had and
    the (sorted) ones it keeps."""

    name: str
    members: tuple[tuple[str, str], ...]
    channels_before: int
    kept: tuple[int, ...]

    @property
    def removed(self) -> tuple[int, ...]:
        kept = set(self.kept)
        return tuple(c for c in range(self.channels_before) if c not in kept)

    @property
    def ratio(self) -> float:
        return len(self.removed) / self.channels_before


@dataclass(frozen=True)
class PruneReport:
    ratio: float | None  # the one ratio of every group, or None when each group got its own count (fit.py)
    criterion: str
    groups: tuple[PrunedGroup, ...]  # the prunable groups, in network order
    frozen_groups: int  # coupled groups left whole (inputs, outputs, ops the analysis does not understand)
    channel_record: dict  # module name -> new sizes; what a checkpoint needs to rebuild the architecture

    @property
    def channels_before(self) -> int:
        return sum(group.channels_before for group in self.groups)

    @property
    def channels_after(self) -> int:
        return sum(len(group.kept) for group in self.groups)


def prune_model(model: nn.Module, ratio: float, criterion: str = "l1", *, input_shape=None,
                block_types: tuple[type, ...] | None = None) -> tuple[nn.Module, PruneReport]:
    """A pruned copy of `model` (eval mode) with round(ratio · C) channels removed from every prunable group.

    `input_shape` is (N, C, H, W) or a ModelConfig; by default the model's own `config`. `block_types` are
    channel-wise blocks (SAP layers) kept whole by the tracer; by default sapool's SAP classes.
    """
    if not 0.0 <= ratio < 1.0:
        raise BadInputError(f"prune ratio must be in [0, 1), got {ratio}")
    groups = model_groups(model, input_shape, block_types)
    removals = {group.name: min(int(round(ratio * group.size)), group.size - 1) for group in groups if group.prunable}
    return prune_channels(model, groups, removals, criterion, ratio=ratio)


def model_groups(model: nn.Module, input_shape=None, block_types: tuple[type, ...] | None = None
                 ) -> list[ChannelGroup]:
    """Every coupled channel group of `model` (frozen ones too), for prune_channels; arguments as prune_model's."""
    shape = input_shape_of(input_shape if input_shape is not None else _own_config(model))
    return channel_groups(model, shape, default_block_types() if block_types is None else block_types)


def prune_channels(model: nn.Module, groups: list[ChannelGroup], removals: dict[str, int], criterion: str = "l1",
                   *, ratio: float | None = None) -> tuple[nn.Module, PruneReport]:
    """A pruned copy of `model` (eval mode): `removals[group.name]` channels (the least important ones) go from
    each group of `groups` (model_groups of this model); groups not named keep every channel."""
    if criterion not in CRITERIA:
        raise BadInputError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    prunable = [group for group in groups if group.prunable]
    for group in prunable:
        if not 0 <= removals.get(group.name, 0) < group.size:
            raise BadInputError(f"group {group.name} has {group.size} channels; cannot remove "
                                f"{removals[group.name]}")
    pruned = copy.deepcopy(model).eval()
    results = tuple(
        PrunedGroup(group.name, tuple(group.members), group.size,
                    _keep(importance(pruned, group, criterion), removals.get(group.name, 0)))
        for group in prunable)
    touched = _slice(pruned, results)
    report = PruneReport(ratio, criterion, results, len(groups) - len(prunable), channel_record(pruned, touched))
    return pruned, report


def importance(model: nn.Module, group: ChannelGroup, criterion: str) -> torch.Tensor:
    """Per-channel importance summed over the group; `bn` falls back to `l1` for a group without BatchNorm."""
    total = torch.zeros(group.size)
    norms = group.modules(NORM)
    if criterion == "bn" and norms:
        for name in norms:
            total += model.get_submodule(name).weight.detach().abs()
        return total
    for name in group.modules(OUT, DEPTHWISE):
        weight = model.get_submodule(name).weight.detach()
        total += weight.abs().reshape(weight.shape[0], -1).sum(dim=1)
    return total


def default_block_types() -> tuple[type, ...]:
    """sapool's channel-wise blocks (SAP and LIP pooling), whose internals reshape channels past the tracer."""
    from sapool.models.pooling import LIPool
    from sapool.models.sap import SAPool

    return (SAPool, LIPool)


def _keep(scores: torch.Tensor, remove: int) -> tuple[int, ...]:
    order = torch.argsort(scores, descending=True, stable=True)
    return tuple(sorted(order[: len(scores) - remove].tolist()))


def _slice(model: nn.Module, results: tuple[PrunedGroup, ...]) -> set[str]:
    keep_out, keep_in, keep_depthwise, keep_norm = {}, {}, {}, {}
    by_role = {OUT: keep_out, IN: keep_in, DEPTHWISE: keep_depthwise, NORM: keep_norm}
    for group in results:
        if len(group.kept) == group.channels_before:
            continue
        for name, role in group.members:
            if role == BLOCK:
                for inner, inner_role in _block_members(model, name):
                    by_role[inner_role][inner] = group.kept
            else:
                by_role[role][name] = group.kept
    return slice_modules(model, keep_out, keep_in, keep_depthwise, keep_norm)


def _block_members(model: nn.Module, name: str) -> list[tuple[str, str]]:
    """The modules inside a channel-wise block that follow the block's channels (per sap.py / pooling.py):
    SAP's patch-embedding input and restoring 1×1 conv + BN outputs (the embed dim E stays whole: it is tied to
    the heads, the position embedding and the attention projections); LIP's 1×1 logit conv (in and out) and BN."""
    from sapool.models.pooling import LIPool
    from sapool.models.sap import SAPool

    block = model.get_submodule(name)
    if isinstance(block, SAPool):
        inner = [("patch_embed.conv", IN), ("restore.conv", OUT), ("restore.bn", NORM)]
    elif isinstance(block, LIPool):
        inner = [("logit.conv", IN), ("logit.conv", OUT), ("logit.bn", NORM)]
    else:
        raise TypeError(f"no channel rule for block {name} ({type(block).__name__})")
    return [(f"{name}.{module}", role) for module, role in inner]


def _own_config(model: nn.Module):
    config = getattr(model, "config", None)
    if config is None:
        raise BadInputError("prune_model needs input_shape (the model has no `config` attribute)")
    return config

