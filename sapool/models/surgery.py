"""Physically smaller modules: slice Conv2d / BatchNorm / Linear weights to the kept channels, and rebuild a pruned
architecture from its channel record before loading its state_dict.

A pruned network is described by `channel_record(model, names)`: for each touched module its new sizes
({"in": …, "out": …, "groups": …} for convs, {"in": …, "out": …} for linears, {"features": …} for norms).
`apply_channel_record` replaces those modules by fresh ones of that size, so `build_model(config)` +
`apply_channel_record` + `load_state_dict` restores a pruned checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from sapool.errors import BadInputError


def slice_modules(model: nn.Module, keep_out: Mapping[str, Sequence[int]], keep_in: Mapping[str, Sequence[int]],
                  keep_depthwise: Mapping[str, Sequence[int]], keep_norm: Mapping[str, Sequence[int]]) -> set[str]:
    """Replace modules in place by copies holding only the kept channels; returns the names of replaced modules."""
    names = set(keep_out) | set(keep_in) | set(keep_depthwise) | set(keep_norm)
    for name in sorted(names):
        module = model.get_submodule(name)
        if isinstance(module, nn.Conv2d):
            if name in keep_depthwise:
                new = _depthwise(module, _index(keep_depthwise[name]))
            else:
                new = _conv(module, _maybe(keep_out.get(name)), _maybe(keep_in.get(name)))
        elif isinstance(module, nn.Linear):
            new = _linear(module, _maybe(keep_out.get(name)), _maybe(keep_in.get(name)))
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            new = _norm(module, _index(keep_norm[name]))
        else:
            raise TypeError(f"cannot slice {name} ({type(module).__name__})")
        _replace(model, name, new)
    return names


def channel_record(model: nn.Module, names: set[str]) -> dict[str, dict[str, int]]:
    """New sizes of the replaced modules, JSON-ready, to be stored with the pruned weights."""
    record = {}
    for name in sorted(names):
        module = model.get_submodule(name)
        if isinstance(module, nn.Conv2d):
            record[name] = {"in": module.in_channels, "out": module.out_channels, "groups": module.groups}
        elif isinstance(module, nn.Linear):
            record[name] = {"in": module.in_features, "out": module.out_features}
        else:
            record[name] = {"features": module.num_features}
    return record


def apply_channel_record(model: nn.Module, record: Mapping[str, Mapping[str, int]]) -> nn.Module:
    """Resize `model` (freshly built from its config) to a pruned architecture; weights are to be loaded after.

    The record comes from a file, so it is checked before anything is built: pruning only ever shrinks, so every
    size must be a whole number between 1 and the module's unpruned size, and groups must divide the channels.
    """
    if not isinstance(record, Mapping):
        raise BadInputError(f"pruned-channel record must be a table of module names, got {type(record).__name__}")
    for name, sizes in record.items():
        try:
            module = model.get_submodule(name) if isinstance(name, str) else None
        except AttributeError:
            module = None
        if module is None:
            raise BadInputError(f"pruned-channel record names {name!r}, which the model config does not have")
        _check_record_entry(name, module, sizes)
        if isinstance(module, nn.Conv2d) and {"in", "out", "groups"} <= set(sizes):
            keep_in, keep_out = range(sizes["in"]), range(sizes["out"])
            new = _conv(module, _index(keep_out), _index(keep_in), groups=int(sizes["groups"]))
        elif isinstance(module, nn.Linear) and {"in", "out"} <= set(sizes):
            new = _linear(module, _index(range(sizes["out"])), _index(range(sizes["in"])))
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and "features" in sizes:
            new = _norm(module, _index(range(sizes["features"])))
        else:
            raise BadInputError(f"pruned-channel record entry {name!r} {dict(sizes)} does not fit its module")
        _replace(model, name, new)
    return model


def _check_record_entry(name: str, module: nn.Module, sizes) -> None:
    limits = {"in": getattr(module, "in_channels", getattr(module, "in_features", None)),
              "out": getattr(module, "out_channels", getattr(module, "out_features", None)),
              "features": getattr(module, "num_features", None)}
    if not isinstance(sizes, Mapping):
        raise BadInputError(f"pruned-channel record entry {name!r} must be a table of sizes, got {sizes!r:.80}")
    for key, value in sizes.items():
        limit = limits.get(key)
        if key == "groups":
            limit = max(limits["in"] or 1, limits["out"] or 1)
        if limit is None or isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise BadInputError(f"pruned-channel record entry {name!r}: {key} = {value!r:.40} is not a whole number "
                                f"between 1 and {limit} (the unpruned size)")
    groups = sizes.get("groups", 1)
    if any(key in sizes and sizes[key] % groups for key in ("in", "out")):
        raise BadInputError(f"pruned-channel record entry {name!r}: groups = {groups} does not divide its channels")


def _conv(conv: nn.Conv2d, keep_out, keep_in, groups: int | None = None) -> nn.Conv2d:
    out_index = keep_out if keep_out is not None else torch.arange(conv.out_channels)
    in_index = keep_in if keep_in is not None else torch.arange(conv.in_channels)
    groups = conv.groups if groups is None else groups
    new = nn.Conv2d(len(in_index), len(out_index), conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                    groups, conv.bias is not None, conv.padding_mode)
    if groups == conv.groups:  # a record may change groups (depthwise); then the weights come from a state_dict
        with torch.no_grad():
            new.weight.copy_(conv.weight[out_index][:, in_index if groups == 1 else slice(None)])
            if conv.bias is not None:
                new.bias.copy_(conv.bias[out_index])
    return new


def _depthwise(conv: nn.Conv2d, keep) -> nn.Conv2d:
    new = nn.Conv2d(len(keep), len(keep), conv.kernel_size, conv.stride, conv.padding, conv.dilation, len(keep),
                    conv.bias is not None, conv.padding_mode)
    with torch.no_grad():
        new.weight.copy_(conv.weight[keep])
        if conv.bias is not None:
            new.bias.copy_(conv.bias[keep])
    return new


def _linear(linear: nn.Linear, keep_out, keep_in) -> nn.Linear:
    out_index = keep_out if keep_out is not None else torch.arange(linear.out_features)
    in_index = keep_in if keep_in is not None else torch.arange(linear.in_features)
    new = nn.Linear(len(in_index), len(out_index), linear.bias is not None)
    with torch.no_grad():
        new.weight.copy_(linear.weight[out_index][:, in_index])
        if linear.bias is not None:
            new.bias.copy_(linear.bias[out_index])
    return new


def _norm(norm: nn.modules.batchnorm._BatchNorm, keep) -> nn.Module:
    new = type(norm)(len(keep), norm.eps, norm.momentum, norm.affine, norm.track_running_stats)
    with torch.no_grad():
        if norm.affine:
            new.weight.copy_(norm.weight[keep])
            new.bias.copy_(norm.bias[keep])
        if norm.track_running_stats:
            new.running_mean.copy_(norm.running_mean[keep])
            new.running_var.copy_(norm.running_var[keep])
            new.num_batches_tracked.copy_(norm.num_batches_tracked)
    return new


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    old = getattr(parent, attribute)
    new.train(old.training)
    new.to(next(old.parameters(), torch.empty(0)).device)
    setattr(parent, attribute, new)


def _index(values) -> torch.Tensor:
    return torch.as_tensor(list(values), dtype=torch.long)


def _maybe(values):
    return None if values is None else _index(values)
