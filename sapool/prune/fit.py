"""Prune a network until its int8 activations fit a target or a RAM budget, as little as possible.

Two strategies:
- `peak` (the default): prune only the channel groups whose tensors are live at the peak op. Each round plans the
  pruned network with sapool.planning's recipe (`int8_peak_activation`: patch stages, in-place layers, kernel
  scratch; the one fit answer) and stops when it fits; otherwise it finds the op with the most bytes live (layer by
  layer, without patches) and removes from every group live there the same fraction of its remaining channels,
  sized so that the bytes it sheds (in proportion to its share of that op's bytes) cover the plan's excess. The
  peak may then move to another op; the rounds repeat. A group nobody's peak touches keeps
  all its channels, so a network whose memory sits in its first layers (MCUNet-like) keeps its deep, wide layers.
- `global`: one ratio for every group, the smallest on a 0.05 grid that fits (bisection: the footprint shrinks as
  the ratio grows).
Both keep at least 5 % of each group's channels (MAX_RATIO) and raise DoesNotFitError naming the op at the peak
when that is not enough, e.g. a SAP layer's attention tokens (q, k, v: L × E each; the fused attention kernel never
stores the heads × L × L scores), which no channel count changes.
"""

from __future__ import annotations

import math

from torch import nn

from sapool.errors import BadInputError, DoesNotFitError
from sapool.memory.analyze import regions_for
from sapool.models.footprint import int8_peak_activation
from sapool.targets import get_target
from sapool.prune.channels import model_groups, prune_channels, prune_model
from sapool.prune.groups import ChannelGroup
from sapool.prune.memory import channel_owners, live_memory

STRATEGIES = ("peak", "global")
RATIO_STEP = 0.05
MAX_RATIO = 0.95


def prune_to_fit(model: nn.Module, config, *, target=None, ram_budget: int | None = None, criterion: str = "l1",
                 strategy: str = "peak", time_limit_s: float = 2.0, patches: str = "auto"):
    """The pruned copy of `model` whose int8 activations fit; returns (pruned model, PruneReport, Footprint).

    `config` is the ModelConfig or input shape; `target` a target name or Target, `ram_budget` bytes (one region
    of that size instead of the target's); `patches` as `sapool compile --patches`. The model is returned unpruned
    when it already fits.
    """
    if target is None and ram_budget is None:
        raise BadInputError("prune_to_fit needs a target or a RAM budget")
    if strategy not in STRATEGIES:
        raise BadInputError(f"pruning strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    target_info = get_target(target) if isinstance(target, str) else target
    where = f"a RAM budget of {ram_budget} B" if ram_budget is not None else f"target {target_info.name}"
    fit = _fit_peak if strategy == "peak" else _fit_global
    return fit(model, config, target_info, ram_budget, criterion, time_limit_s, where, patches)


def most_removable(group: ChannelGroup) -> int:
    """Channels a fit may take from a group: MAX_RATIO of them, always leaving one."""
    return min(int(round(MAX_RATIO * group.size)), group.size - 1)


def describe_op(graph, live, position: int) -> str:
    """`OPCODE name (origin) with N B live`: where the memory is, in the user's terms."""
    op = graph.ops[position]
    return f"{op.opcode} {op.name} ({op.origin}) with {live[position]} B live"


def advice(model: nn.Module, graph, position: int) -> str:
    """What to change instead of pruning more: for an op inside a SAP layer, its number of patches."""
    sap = _enclosing_sap(model, graph.ops[position].origin)
    if sap is None:
        return "use a smaller input size, width or a larger target"
    return (f"the op is inside SAP layer {sap}, whose attention tokens (q, k, v: L × embed dim, L = number of patches) "
            f"do not shrink with channels: reduce L (a smaller input or a larger patch size) instead")


def _fit_peak(model, config, target, ram_budget, criterion, time_limit_s, where, patches):
    groups = model_groups(model, config)
    prunable = {group.name: group for group in groups if group.prunable}
    owners = channel_owners(model, config, groups)
    capacity = sum(region.size for region in regions_for(target, ram_budget))
    removals = dict.fromkeys(prunable, 0)
    memory = live_memory(model, config)
    fixed = [memory.bytes_by_group(position, owners)[1] for position in range(len(memory.live))]
    hopeless = max(range(len(fixed)), key=fixed.__getitem__)
    if fixed[hopeless] > capacity:  # bytes no pruning removes exceed the budget on their own: say so at once
        raise _does_not_fit(model, memory, hopeless, owners, where, exhausted=False)
    while True:
        pruned, report = prune_channels(model, groups, removals, criterion)
        footprint = int8_peak_activation(pruned, config, target=target, ram_budget=ram_budget,
                                         time_limit_s=time_limit_s, patches=patches)
        if footprint.fits:  # the real plan (patch stages, in-place layers, kernel scratch) decides
            return pruned, report, footprint
        memory = live_memory(pruned, config)
        position = memory.peak_op
        excess = max(1, min(memory.live[position] - capacity,
                            sum(use.over_budget_bytes for use in footprint.layout.regions)))
        by_group = memory.bytes_by_group(position, owners)[0]
        shrinkable = {name: size for name, size in by_group.items()
                      if removals[name] < most_removable(prunable[name])}
        if not shrinkable:
            raise _does_not_fit(model, memory, position, owners, where, exhausted=True)
        fraction = min(1.0, excess / sum(shrinkable.values()))
        for name in shrinkable:  # the same fraction of each group's remaining channels: bytes shed ∝ bytes held
            group = prunable[name]
            kept = group.size - removals[name]
            fewest = group.size - most_removable(group)
            removals[name] = group.size - max(fewest, min(kept - 1, math.floor(kept * (1 - fraction))))


def _does_not_fit(model, memory, position: int, owners: dict[str, str], where: str, *,
                  exhausted: bool) -> DoesNotFitError:
    """Why no pruning fits: the bytes at `position` that no channel group owns, and, when `exhausted`, that the
    groups which do own bytes there have been pruned as far as MAX_RATIO allows."""
    by_group, fixed = memory.bytes_by_group(position, owners)
    limited = ""
    if exhausted and by_group:
        limited = f"; the channel groups there ({', '.join(by_group)}) are pruned as far as allowed"
    return DoesNotFitError(
        f"the model does not fit {where}: at op {position} {describe_op(memory.graph, memory.live, position)}, "
        f"{fixed} B do not shrink with channel pruning (largest: {memory.largest_fixed(position, owners)}){limited}; "
        f"{advice(model, memory.graph, position)}")


def _fit_global(model, config, target, ram_budget, criterion, time_limit_s, where, patches):
    def attempt(steps: int):
        pruned, report = prune_model(model, round(steps * RATIO_STEP, 6), criterion, input_shape=config)
        footprint = int8_peak_activation(pruned, config, target=target, ram_budget=ram_budget,
                                         time_limit_s=time_limit_s, patches=patches)
        return pruned, report, footprint

    low, high = 0, int(round(MAX_RATIO / RATIO_STEP))
    best = attempt(high)
    if not best[2].fits:
        footprint = best[2]
        live = footprint.layout.live_bytes
        busiest = max(range(len(live)), key=live.__getitem__)
        raise DoesNotFitError(
            f"the model does not fit {where} even pruned at ratio {high * RATIO_STEP:.2f}: int8 activations need "
            f"{footprint.peak_arena_bytes} B (busiest op: {describe_op(footprint.graph, live, busiest)}); "
            f"{advice(model, footprint.graph, busiest)}")
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


def _enclosing_sap(model: nn.Module, origin: str) -> str | None:
    """The SAP layer an op comes from (by the module path in its origin, see footprint._origin), if any."""
    from sapool.models.sap import SAPool

    path = origin.removeprefix("torch module ") if origin.startswith("torch module ") else origin.partition(" in ")[2]
    parts = path.split(".") if path else []
    for end in range(1, len(parts) + 1):
        prefix = ".".join(parts[:end])
        try:
            module = model.get_submodule(prefix)
        except AttributeError:
            return None
        if isinstance(module, SAPool):
            return prefix
    return None
