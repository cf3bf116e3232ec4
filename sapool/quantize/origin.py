"""Which torch module a tensor of a litert-torch export came from, read back from the tensor's name.

litert-torch 0.10 names each output tensor after the torch module stack of the node that made it, e.g.
"litert_torch…ChannelLastIOWrapper/sapool.models.tiny.McuNet_wrapped/torch.nn.modules.container.Sequential_stem/
torch.nn.modules.conv.Conv2d_conv;2" (one "class_attribute" per level, ';' before a counter or a second fused
location). `module_path` turns that into "stem.conv", the name `model.named_modules()` uses.
"""

from __future__ import annotations

import re

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


def _module_description(node) -> str | None:
    """"module encoder.layers.0.self_attn (MultiheadAttention)" from a node's own module stack, or None."""
    path = node_module_path(node)
    if not path:
        return None
    kind = list(node.meta["nn_module_stack"].values())[-1][1]
    kind = kind.rsplit(".", 1)[-1] if isinstance(kind, str) else getattr(kind, "__name__", "")
    return f"module {path}" + (f" ({kind})" if kind and kind not in ("AnyBatch", "Wrapper") else "")


def source_origins(module) -> dict[str, str]:
    """Node name → where it came from in the user's file, for a module that is a traced graph already (a .pt2's
    program, an ONNX conversion): the sapool export of such a module keeps node names but not that knowledge.
    .pt2 nodes carry the original export's module stack; ONNX conversions record the ONNX node
    (`sapool_origin`, set by frontends/onnx/convert.py)."""
    graph_module = getattr(module, "inner", module)
    graph = getattr(graph_module, "graph", None)
    if graph is None:
        return {}
    origins = {}
    for node in graph.nodes:
        where = node.meta.get("sapool_origin") or _module_description(node)
        if where:
            origins[node.name] = where
    return origins


def node_origin(node, origins: dict[str, str] | None = None) -> str:
    """", from module encoder.layers.0.self_attn (MultiheadAttention)" or ", from ONNX Mod node '/Mod'" for
    messages about an aten node of sapool's export, or "" when unknown. The source node is the one whose line of
    generated code the export traced (the last line of its stack trace, "name = torch.div(…)"), else the node of
    the same name."""
    where = _module_description(node)
    if where is None and origins:
        lines = (node.meta.get("stack_trace") or "").strip().splitlines()
        source = re.match(r"\s*(\w+) = ", lines[-1]) if lines else None
        where = (origins.get(source.group(1)) if source else None) or origins.get(node.name)
    return f", from {where}" if where else ""
