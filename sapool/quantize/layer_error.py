"""Per-layer int8-vs-float error: which layer of the int8 model drifts from the torch model, and by how much.

Each int8 op output is matched to the torch module that made it (the tensor's name, sapool.quantize.origin), the
float output of that module is recorded with a forward hook on the same images, and the two are compared as
ST's validate does: cosine similarity, max absolute error, relative L2 (‖int8 − float‖ / ‖float‖).

Matching rules: a module's output is the LAST int8 op named after it (SAP's exp polynomial is twelve MUL/ADD
ops; only the last one is the module's output); a conv or linear followed only by BatchNorm in an nn.Sequential,
and an activation ending one, stand for that Sequential (BatchNorm and the activation are folded into the op,
so the Sequential's output is what the op computes); layout ops (RESHAPE, TRANSPOSE…) are not layers. A 4-D
tensor is compared channel-last when the module's output transposed to NHWC has its shape (so a C = H = W tensor
that the converter kept in NCHW order would be compared wrongly), else as is; one whose shape matches neither is
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapool.quantize.origin import module_path

OUTPUT_NAME = "(model output)"
LAYOUT_OPS = frozenset({"RESHAPE", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS", "QUANTIZE"})


@dataclass(frozen=True)
class LayerError:
    """int8 vs float for one layer; `name` is the torch module path, `op` the int8 op that computes it."""

    name: str
    op: str
    tensor: int
    cosine: float
    max_abs: float
    relative_l2: float | None  # None when the float output is all zeros


def match_layers(graph, module) -> dict[str, int]:
    """Torch module path → index of the int8 op whose output is that module's output, in execution order."""
    modules = dict(module.named_modules())
    last_op: dict[str, int] = {}
    for op in graph.ops:
        # the graph output is named after the signature, not a module: it is the whole model's output
        path = "" if op.outputs[0] in graph.outputs else module_path(graph.tensor(op.outputs[0]).name)
        reported = _reported_module(path, modules) if path is not None and path in modules else None
        # a layout op carries a module's output only after that module's own op: a Linear exported as
        # RESHAPE → 1×1 CONV_2D → RESHAPE (passes/fc_as_conv.py) ends in the RESHAPE back to its shape
        if reported is not None and (op.opcode not in LAYOUT_OPS or reported in last_op or reported == ""):
            last_op[reported] = op.index
    return dict(sorted(last_op.items(), key=lambda item: item[1]))


def layer_errors(module, graph, images, int8_tensors: dict[int, np.ndarray]) -> tuple[LayerError, ...]:
    """Compare each matched layer on `images` (float N×C×H×W); `int8_tensors` are the int8 model's dequantised
    activations on the same images (tensor index → values, sapool.quantize.int8_run)."""
    layers = match_layers(graph, module)
    floats = _float_outputs(module, images, layers)
    errors = []
    for name, op_index in layers.items():
        op = graph.ops[op_index]
        tensor = op.outputs[0]
        if name not in floats or tensor not in int8_tensors:
            continue
        reference = _aligned(floats[name], int8_tensors[tensor].shape)
        if reference is not None:
            errors.append(_compare(name or OUTPUT_NAME, op.opcode, tensor, int8_tensors[tensor], reference))
    return tuple(errors)


def _reported_module(path: str, modules: dict) -> str | None:
    """Climb from a conv/linear to the Sequential whose remaining children are BatchNorms, and from an activation
    that ends a Sequential to that Sequential: the op computes the Sequential's output. None for a conv whose
    BatchNorm is followed by more (conv + BN before a sigmoid): no torch module outputs what that op computes."""
    from torch import nn

    activations = (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Hardswish, nn.Hardtanh, nn.Tanh)
    while path:
        parent_path, _, name = path.rpartition(".")
        parent = modules[parent_path]
        if not isinstance(parent, nn.Sequential):
            break
        names = [child for child, _ in parent.named_children()]
        later = [getattr(parent, child) for child in names[names.index(name) + 1:]]
        batch_norms = [isinstance(child, nn.modules.batchnorm._BatchNorm) for child in later]
        if not all(batch_norms):
            return None if batch_norms[0] else path
        if not later and not isinstance(modules[path], activations):
            break
        path = parent_path
    return path


def _float_outputs(module, images, layers: dict[str, int]) -> dict[str, np.ndarray]:
    """Each matched module's float output on `images` (export form for SAP layers, as quantised)."""
    import torch

    from sapool.models.sap import sap_form

    outputs, hooks = {}, []
    modules = dict(module.named_modules())
    for name in layers:
        def record(_module, _inputs, output, name=name):
            if isinstance(output, torch.Tensor):
                outputs[name] = output.detach().numpy().copy()
        hooks.append(modules[name].register_forward_hook(record))
    was_training = module.training
    try:
        with sap_form(module.eval(), "export"), torch.no_grad():
            module(torch.as_tensor(images))
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()
    return outputs


def _aligned(reference: np.ndarray, int8_shape: tuple[int, ...]) -> np.ndarray | None:
    """`reference` (torch layout, batch N first) in the int8 tensor's layout (N, *tensor shape), or None.

    Tensors whose batch is folded with another axis ((N·heads)×L×L attention scores) are regrouped per image."""
    count = int8_shape[0]
    if reference.shape[0] != count:
        if reference.shape[0] % count:
            return None
        reference = reference.reshape(count, reference.shape[0] // count, *reference.shape[1:])
    if reference.ndim == 4 and reference.transpose(0, 2, 3, 1).shape == tuple(int8_shape):
        return reference.transpose(0, 2, 3, 1)  # TFLite's channel-last activations
    if reference.shape == tuple(int8_shape):
        return reference  # kept in torch's order (the converter's NCHW-ordered elementwise regions)
    return None


def _compare(name: str, opcode: str, tensor: int, int8: np.ndarray, reference: np.ndarray) -> LayerError:
    a, b = int8.astype(np.float64).ravel(), reference.astype(np.float64).ravel()
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    cosine = float(a @ b / norms) if norms > 0 else float(np.array_equal(a, b))
    reference_norm = float(np.linalg.norm(b))
    difference = float(np.linalg.norm(a - b))
    relative = difference / reference_norm if reference_norm > 0 else None
    return LayerError(name, opcode, tensor, cosine, float(np.max(np.abs(a - b))) if a.size else 0.0, relative)
