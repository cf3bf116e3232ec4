"""Structured channel pruning: remove whole channels (smaller Conv2d / BatchNorm / Linear modules, not masks).

`prune_model(model, ratio, criterion)` removes round(ratio · C) channels from every prunable channel group
(prune_groups.channel_groups: residual sums, depthwise convs and SAP layers couple channels; model inputs and
outputs stay). A channel's importance is the L1 norm of every filter that produces it (`l1`) or the sum of |γ|
of the BatchNorms on it (`bn`), summed over the group, so a residual channel is judged on all its producers.
`prune_to_fit` searches the smallest ratio (on a 0.05 grid) whose int8 activation footprint fits a target or a
RAM budget. The input model is never modified; the result carries a channel record for checkpoints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from sapool.errors import BadInputError, DoesNotFitError
from sapool.models.footprint import int8_peak_activation, input_shape_of
from sapool.train.prune_groups import BLOCK, DEPTHWISE, IN, NORM, OUT, ChannelGroup, channel_groups
from sapool.train.prune_surgery import channel_record, slice_modules

CRITERIA = ("l1", "bn")
RATIO_STEP = 0.05
MAX_RATIO = 0.95


@dataclass(frozen=True)
class PrunedGroup:
    """One group's outcome: the modules tied together, the channels it had and the (sorted) ones it keeps."""

    members: tuple[tuple[str, str], ...]
    channels_before: int
    kept: tuple[int, ...]

    @property
    def removed(self) -> tuple[int, ...]:
        kept = set(self.kept)
        return tuple(c for c in range(self.channels_before) if c not in kept)


@dataclass(frozen=True)
class PruneReport:
    ratio: float
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
    """A pruned copy of `model` (eval mode) and what was removed.

    `input_shape` is (N, C, H, W) or a ModelConfig; by default the model's own `config`. `block_types` are
    channel-wise blocks (SAP layers) kept whole by the tracer; by default sapool's SAP classes.
    """
    if criterion not in CRITERIA:
        raise BadInputError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if not 0.0 <= ratio < 1.0:
        raise BadInputError(f"prune ratio must be in [0, 1), got {ratio}")
    shape = input_shape_of(input_shape if input_shape is not None else _own_config(model))
    blocks = default_block_types() if block_types is None else block_types
    pruned = copy.deepcopy(model).eval()
    groups = channel_groups(pruned, shape, blocks)
    prunable = [group for group in groups if group.prunable]
    results = tuple(
        PrunedGroup(tuple(group.members), group.size, _keep(group, importance(pruned, group, criterion), ratio))
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


def prune_to_fit(model: nn.Module, config, *, target=None, ram_budget: int | None = None, criterion: str = "l1",
                 max_ratio: float = MAX_RATIO, time_limit_s: float = 2.0):
    """The least-pruned model (ratio on a RATIO_STEP grid up to `max_ratio`) whose int8 activations fit.

    Returns (pruned model, report, footprint). Bisection relies on the footprint shrinking as the ratio grows;
    DoesNotFitError when even `max_ratio` (at least one channel kept per group) does not fit.
    """
    if target is None and ram_budget is None:
        raise BadInputError("prune_to_fit needs a target or a RAM budget")
    where = f"a RAM budget of {ram_budget} B" if ram_budget is not None else f"target {_target_name(target)}"

    def attempt(steps: int):
        pruned, report = prune_model(model, round(steps * RATIO_STEP, 6), criterion, input_shape=config)
        footprint = int8_peak_activation(pruned, config, target=target, ram_budget=ram_budget,
                                         time_limit_s=time_limit_s)
        return pruned, report, footprint

    low, high = 0, int(round(max_ratio / RATIO_STEP))
    best = attempt(high)
    if not best[2].fits:
        raise DoesNotFitError(
            f"the model does not fit {where} even pruned at ratio {high * RATIO_STEP:.2f}: int8 activations need "
            f"{best[2].peak_arena_bytes} B ({_busiest_op(best[2])}); use a smaller input size, width or a larger "
            f"target")
    first = attempt(low)
    if first[2].fits:
        return first
    while high - low > 1:  # invariant: `low` does not fit, `high` fits and is held in `best`
        middle = (low + high) // 2
        candidate = attempt(middle)
        if candidate[2].fits:
            high, best = middle, candidate
        else:
            low = middle
    return best


def default_block_types() -> tuple[type, ...]:
    """sapool's channel-wise blocks (SAP and LIP pooling), whose internals reshape channels past the tracer."""
    from sapool.models.pooling import LIPool
    from sapool.models.sap import SAPool

    return (SAPool, LIPool)


def _keep(group: ChannelGroup, scores: torch.Tensor, ratio: float) -> tuple[int, ...]:
    remove = min(int(round(ratio * group.size)), group.size - 1)
    order = torch.argsort(scores, descending=True, stable=True)
    return tuple(sorted(order[: group.size - remove].tolist()))


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


def _busiest_op(footprint) -> str:
    """Where the memory goes, so the user knows what to change (e.g. SAP's attention scores do not prune)."""
    live = footprint.layout.live_bytes
    position = max(range(len(footprint.graph.ops)), key=live.__getitem__)
    op = footprint.graph.ops[position]
    return f"busiest op: {op.opcode} {op.name} with {live[position]} B live"


def _own_config(model: nn.Module):
    config = getattr(model, "config", None)
    if config is None:
        raise BadInputError("prune_model needs input_shape (the model has no `config` attribute)")
    return config


def _target_name(target) -> str:
    return target if isinstance(target, str) else target.name
