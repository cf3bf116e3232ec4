"""Which torch module a tensor of a litert-torch export came from, read back from the tensor's name.

litert-torch 0.10 names each output tensor after the torch module stack of the node that made it, e.g.
"litert_torch…ChannelLastIOWrapper/sapool.models.tiny.McuNet_wrapped/torch.nn.modules.container.Sequential_stem/
torch.nn.modules.conv.Conv2d_conv;2" (one "class_attribute" per level, ';' before a counter or a second fused
location). `module_path` turns that into "stem.conv", the name `model.named_modules()` uses.
"""

from __future__ import annotations

WRAPPER_SUFFIX = "_wrapped"  # to_channel_last_io's wrapper holds the user's model under this attribute


def module_path(tensor_name: str) -> str | None:
    """The dotted module path of the first location in `tensor_name`; "" for the model itself; None when the
    name is not a module stack (converter-made tensors such as layout TRANSPOSEs around reshapes)."""
    location = tensor_name.split(";", 1)[0]
    levels = location.split("/")
    start = next((i for i, level in enumerate(levels) if level.endswith(WRAPPER_SUFFIX)), None)
    if start is None:
        return None
    names = []
    for level in levels[start + 1:]:
        class_path, separator, attribute = level.rpartition(".")[2].partition("_")
        if not separator or not class_path:
            return None
        names.append(attribute)
    return ".".join(names)


def describe(tensor_name: str) -> str:
    """"module features.stage1.pool" for messages, or the raw name when it names no module."""
    path = module_path(tensor_name)
    if path is None:
        return f"tensor {tensor_name!r}"
    return f"module {path}" if path else "the model's top level"


def node_module_path(node) -> str | None:
    """The dotted path of the user's module an aten node of the export came from ("encoder.layers.0.self_attn"),
    read from torch.export's `nn_module_stack`; "" for the model's top level, None when not recorded."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return None
    path = list(stack.values())[-1][0]
    path = path.removeprefix("L['self']").lstrip(".")  # the export root
    path = path.removeprefix(WRAPPER_SUFFIX.lstrip("_")).lstrip(".")  # sapool's wrapper around the user's model
    return path.replace("['", ".").replace("']", "").replace("[", ".").replace("]", "")


def node_origin(node) -> str:
    """", from module encoder.layers.0.self_attn" for messages about an aten node, or "" when unknown."""
    path = node_module_path(node)
    return f", from module {path}" if path else ""
