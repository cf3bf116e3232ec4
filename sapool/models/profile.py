"""Per-layer int8 activation bytes, parameters and MACs of a network, from one forward pass with hooks.

A "layer" is every leaf module the forward pass calls, except BatchNorm and ReLU/ReLU6 (the int8 export folds
them into the preceding conv) and Dropout/Identity (they disappear); SAP layers are profiled in their export
form, whose steps (attention scores, window softmax, …) are modules of their own. Each activation element is
one byte (int8). The peak is a simple estimate — the largest input + output of one layer; element-wise ops
inside a block's forward (the residual ADD) are not layers here. sapool.models.footprint plans the exact arena
of the traced graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from sapool.models.config import ModelConfig
from sapool.models.sap import sap_form

FUSED_OR_REMOVED = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.Dropout, nn.Identity)
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LayerProfile:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    input_bytes: int
    output_bytes: int
    params: int
    macs: int

    @property
    def live_bytes(self) -> int:
        """Input + output: what must be in RAM while this layer runs."""
        return self.input_bytes + self.output_bytes


@dataclass(frozen=True)
class ModelProfile:
    layers: list[LayerProfile]
    params: int
    macs: int
    peak_activation_bytes: int
    peak_layer: str

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    def format_text(self) -> str:
        rows = [f"{'layer':<44} {'kind':<20} {'output':<18} {'in+out B':>9} {'params':>8} {'MACs':>11}"]
        for layer in self.layers:
            shape = "×".join(str(d) for d in layer.output_shape)
            rows.append(f"{layer.name:<44} {layer.kind:<20} {shape:<18} {layer.live_bytes:>9,} "
                        f"{layer.params:>8,} {layer.macs:>11,}")
        rows.append(f"params {self.params:,}  MACs {self.macs:,}  "
                    f"largest layer input+output (an estimate, not the plan) {self.peak_activation_bytes:,} B "
                    f"({self.peak_layer})")
        return "\n".join(rows)


def profile_model(model: nn.Module, config: ModelConfig | None = None) -> ModelProfile:
    """Profile `model` on one 1×C×H×W input of `config`'s shape (eval mode, SAP export form, state restored).

    `config` defaults to the network's own (`model.config`, set by every sapool network).
    """
    config = config if config is not None else model.config
    layers: list[LayerProfile] = []
    names = {module: name for name, module in model.named_modules()}

    def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        layers.append(LayerProfile(
            name=names[module], kind=type(module).__name__, output_shape=tuple(output.shape),
            input_bytes=sum(t.numel() for t in inputs if isinstance(t, torch.Tensor)),
            output_bytes=output.numel(), params=sum(p.numel() for p in module.parameters(recurse=False)),
            macs=_macs(module, inputs, output)))

    hooks = [module.register_forward_hook(record) for module in model.modules()
             if not any(True for _ in module.children()) and not isinstance(module, FUSED_OR_REMOVED)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), sap_form(model, "export"):
            model(torch.zeros(1, config.in_channels, config.input_size, config.input_size))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    peak = max(layers, key=lambda layer: layer.live_bytes)
    return ModelProfile(layers=layers, params=sum(p.numel() for p in model.parameters()),
                        macs=sum(layer.macs for layer in layers), peak_activation_bytes=peak.live_bytes,
                        peak_layer=peak.name)


def _macs(module: nn.Module, inputs: tuple, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kernel_h, kernel_w = module.kernel_size
        return output.numel() * (module.in_channels // module.groups) * kernel_h * kernel_w
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if hasattr(module, "macs"):
        return module.macs(inputs, output)
    return 0
