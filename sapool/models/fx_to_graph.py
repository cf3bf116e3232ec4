"""A shape-propagated torch.fx graph written as the sapool.ir Graph its int8 TFLite export will contain.

`write_graph` mimics what the int8 TFLite export will contain: NHWC int8 activations (1 byte per element),
ops in execution order, and the rewrites the TFLite converter makes (measured with litert-torch 0.10):
- BatchNorm after a conv / linear is folded into it (no tensor of its own);
- ReLU / ReLU6 become the producer's fused activation when the producer is a CONV_2D, DEPTHWISE_CONV_2D,
  FULLY_CONNECTED, ADD, SUB, MUL or pooling op whose output nobody else reads;
- sigmoid and hardswish are NOT fused: TFLite has no such fused activation, the export contains a LOGISTIC /
  HARD_SWISH op with its own output tensor;
- flatten / view / reshape / (un)squeeze become RESHAPE (a view: the planner lets it share its input's bytes),
  permute / transpose become TRANSPOSE (a copy in TFLite-Micro), adaptive average pooling to 1×1 becomes MEAN;
- dropout, identity, contiguous, clone and dtype casts disappear.
Everything else becomes one op with its real output tensor. Where the estimate can differ from a real export:
the converter may insert TRANSPOSEs around reshapes of 4-D tensors whose channel order differs between NCHW and
NHWC, may fold constant arithmetic (x * 1.0) away, may split one torch op into several (a standalone BatchNorm
is written here as MUL + ADD), and a custom quantiser can leave ops in float (4 bytes per element).
"""


from __future__ import annotations

import math
import struct
from dataclasses import replace

from sapool.errors import UnsupportedError
from sapool.ir.graph import DTYPE_BYTES, Graph, Op, Tensor
from sapool.ir.options import Conv2DOptions, DepthwiseConv2DOptions, NoOptions, OpOptions, Pool2DOptions

# Producers that carry a fused_activation_function in the TFLite schema.
_FUSES_ACTIVATION = frozenset(
    {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D"})
_FOLDS_BATCH_NORM = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})

_MODULE_OPS = {  # torch.nn class name -> TFLite op; modules needing a decision are handled in _module_op
    "Sigmoid": "LOGISTIC", "Hardswish": "HARD_SWISH", "Tanh": "TANH", "Softmax": "SOFTMAX",
    "MaxPool2d": "MAX_POOL_2D", "AvgPool2d": "AVERAGE_POOL_2D", "Flatten": "RESHAPE", "Unflatten": "RESHAPE",
    "Linear": "FULLY_CONNECTED", "ZeroPad2d": "PAD", "ConstantPad2d": "PAD",
}
_FUNCTION_OPS = {  # function or method name -> TFLite op
    "add": "ADD", "iadd": "ADD", "sub": "SUB", "isub": "SUB", "mul": "MUL", "imul": "MUL", "truediv": "DIV",
    "div": "DIV", "sigmoid": "LOGISTIC", "hardswish": "HARD_SWISH", "tanh": "TANH", "exp": "EXP",
    "softmax": "SOFTMAX", "log_softmax": "LOG_SOFTMAX", "flatten": "RESHAPE", "view": "RESHAPE",
    "reshape": "RESHAPE", "squeeze": "RESHAPE", "unsqueeze": "RESHAPE", "unflatten": "RESHAPE",
    "permute": "TRANSPOSE", "transpose": "TRANSPOSE", "t": "TRANSPOSE", "matmul": "BATCH_MATMUL",
    "bmm": "BATCH_MATMUL", "einsum": "BATCH_MATMUL", "mean": "MEAN", "sum": "SUM", "amax": "REDUCE_MAX",
    "max_pool2d": "MAX_POOL_2D", "avg_pool2d": "AVERAGE_POOL_2D", "interpolate": "RESIZE_NEAREST_NEIGHBOR",
    "cat": "CONCATENATION", "stack": "PACK", "pad": "PAD", "linear": "FULLY_CONNECTED", "conv2d": "CONV_2D",
    "getitem": "STRIDED_SLICE", "chunk": "SPLIT", "split": "SPLIT", "neg": "NEG", "abs": "ABS",
}
_RELUS = frozenset({"ReLU", "ReLU6", "relu", "relu_", "relu6", "hardtanh", "clamp"})
_PASS_THROUGH = frozenset({"Dropout", "Identity", "dropout", "contiguous", "clone", "to", "float", "detach",
                           "type_as", "Dropout2d"})



def write_graph(module, name: str) -> Graph:
    """The estimated int8 TFLite graph of the shape-propagated fx GraphModule `module`, named `name`."""
    return _GraphWriter(module).write(name)


class _GraphWriter:
    """Walks a shape-propagated fx graph in order, emitting Tensors and Ops (one pass, no look-ahead)."""

    def __init__(self, module):
        self.module = module
        self.modules = dict(module.named_modules())
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []
        self.value: dict = {}  # fx node -> tensor index, or tuple of indices for multi-output ops
        self.producer: dict[int, str] = {}  # tensor index -> opcode that wrote it
        self.sole_reader: dict = {}  # fx node -> True when its tensor flows only through single-use nodes

    def write(self, name: str) -> Graph:
        inputs, outputs = [], []
        for node in self.module.graph.nodes:
            if node.op == "placeholder":
                index = self._new_tensor(node, _shape(node))
                inputs.append(index)
                self._bind(node, index, fresh=True)
            elif node.op == "output":
                outputs = [self.value[arg] for arg in _flat(node.args[0]) if arg in self.value]
            elif node.op == "get_attr":
                self._bind(node, self._new_tensor(node, _shape(node), constant=True), fresh=True)
            elif _is_tensor(node) or _is_tensor_tuple(node):
                self._call(node)
        return Graph(name=name, tensors=self.tensors, ops=self.ops, inputs=tuple(inputs), outputs=tuple(outputs))

    def _call(self, node) -> None:
        kind = self._kind(node)
        source = next((arg for arg in _flat(node.args) if arg in self.value), None)
        if kind in _PASS_THROUGH and source is not None:
            return self._bind(node, self.value[source], fresh=False, source=source)
        if kind in _RELUS and source is not None and self._can_fuse(source, _FUSES_ACTIVATION):
            return self._bind(node, self.value[source], fresh=False, source=source)
        if kind in ("BatchNorm1d", "BatchNorm2d"):
            if self._can_fuse(source, _FOLDS_BATCH_NORM):
                return self._bind(node, self.value[source], fresh=False, source=source)
            scaled = self._emit_on_tensor("MUL", node, self.value[source], _shape(node), ":scaled")
            return self._bind(node, self._emit_on_tensor("ADD", node, scaled, _shape(node)), fresh=True)
        if node.op == "call_function" and kind == "getitem" and isinstance(self.value.get(node.args[0]), tuple):
            return self._bind(node, self.value[node.args[0]][node.args[1]], fresh=True)
        opcode = self._opcode(node, kind)
        inputs = []
        for operand in (arg for arg in _flat((node.args, node.kwargs)) if arg in self.value):
            value = self.value[operand]
            inputs.extend(value if isinstance(value, tuple) else (value,))
        if node.op == "call_module" and inputs:
            inputs[0] = self._explicit_pad(node, inputs[0])
        if _is_tensor_tuple(node):
            outputs = tuple(self._new_tensor(node, _nhwc(m.shape), suffix=f":{i}")
                            for i, m in enumerate(node.meta["tensor_meta"]))
        else:
            outputs = (self._new_tensor(node, _shape(node)),)
        self._append_op(opcode, inputs, outputs, node)
        return self._bind(node, outputs if _is_tensor_tuple(node) else outputs[0], fresh=True)

    def _explicit_pad(self, node, tensor: int) -> int:
        """TFLite convs and pools pad only VALID (none) or SAME (the extra row/column at the bottom/right). A torch
        padding that is neither, e.g. 3×3 stride 2 padding 1 on an even size, becomes a PAD op before the op."""
        module = self.modules[node.target]
        if not isinstance(getattr(module, "padding", None), (int, tuple)) or not hasattr(module, "kernel_size"):
            return tensor
        n, height, width, channels = self.tensors[tensor].shape
        pads = _pair(module.padding)
        axes = zip((height, width), _pair(module.kernel_size), _pair(module.stride), pads,
                   _pair(getattr(module, "dilation", 1)))
        if not any(pads) or all(_is_same_padding(*axis) for axis in axes):
            return tensor
        padded = (n, height + 2 * pads[0], width + 2 * pads[1], channels)
        # the paddings (and a max pool's lowest-value fill) as the converter writes them, so passes/fold_pad
        # folds this PAD as it folds the export's
        paddings = self._new_tensor(node, (4, 2), constant=True, suffix=":paddings", dtype="int32")
        rows = (0, 0, pads[0], pads[0], pads[1], pads[1], 0, 0)
        self.tensors[paddings] = replace(self.tensors[paddings], data=struct.pack("<8i", *rows))
        if "Conv" in type(module).__name__:
            return self._emit_on_tensor("PAD", node, tensor, padded, ":pad", extra_inputs=(paddings,))
        fill = self._new_tensor(node, (1,), constant=True, suffix=":fill")
        self.tensors[fill] = replace(self.tensors[fill], data=struct.pack("<b", -128))
        return self._emit_on_tensor("PADV2", node, tensor, padded, ":pad", extra_inputs=(paddings, fill))

    def _kind(self, node) -> str:
        if node.op == "call_module":
            return type(self.modules[node.target]).__name__
        if node.op == "call_method":
            return node.target
        return getattr(node.target, "__name__", str(node.target)).rstrip("_")

    def _opcode(self, node, kind: str) -> str:
        if node.op == "call_module":
            module = self.modules[node.target]
            if kind == "Conv2d":
                # one filter per input channel; a 1-channel input conv is exported this way too (depth multiplier)
                return "DEPTHWISE_CONV_2D" if module.groups == module.in_channels else "CONV_2D"
            if kind in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
                one_by_one = math.prod(_shape(node)[1:3]) == 1
                return ("MEAN" if "Avg" in kind else "REDUCE_MAX") if one_by_one else "AVERAGE_POOL_2D"
            if kind == "Upsample":
                return "RESIZE_NEAREST_NEIGHBOR" if module.mode == "nearest" else "RESIZE_BILINEAR"
            if kind in ("ReLU", "ReLU6"):
                return kind.upper()
            return _MODULE_OPS.get(kind, kind.upper())
        if kind in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            return "MEAN" if math.prod(_shape(node)[1:3]) == 1 else "AVERAGE_POOL_2D"
        if kind == "interpolate" and node.kwargs.get("mode", "nearest") != "nearest":
            return "RESIZE_BILINEAR"
        if kind in _RELUS:
            return "RELU6" if kind in ("relu6", "hardtanh") else "RELU"
        return _FUNCTION_OPS.get(kind, kind.upper())

    def _can_fuse(self, source, producers: frozenset) -> bool:
        """True when `source`'s tensor was written by one of `producers` and is read by this node alone."""
        if source is None or isinstance(self.value.get(source), tuple):
            return False
        return (self.producer.get(self.value[source]) in producers
                and len(source.users) == 1 and self.sole_reader.get(source, False))

    def _bind(self, node, index, *, fresh: bool, source=None) -> None:
        self.value[node] = index
        self.sole_reader[node] = fresh or (len(source.users) == 1 and self.sole_reader.get(source, False))

    def _emit_on_tensor(self, opcode: str, node, tensor: int, shape: tuple[int, ...], suffix: str = "",
                        extra_inputs: tuple[int, ...] = ()) -> int:
        """An extra op of the converter's own (PAD, BatchNorm's MUL and ADD) reading one tensor (and constants)."""
        output = self._new_tensor(node, shape, suffix=suffix)
        self.ops.append(Op(len(self.ops), opcode, (tensor, *extra_inputs), (output,), name=node.name + suffix,
                           origin=_origin(node)))
        self.producer[output] = opcode
        return output

    def _append_op(self, opcode: str, inputs: list[int], outputs: tuple[int, ...], node) -> None:
        options = NoOptions()
        if node.op == "call_module":
            options = self._window_options(node, opcode, inputs[0] if inputs else None)
            inputs.extend(self._weights(node, opcode))
        self.ops.append(Op(len(self.ops), opcode, tuple(inputs), outputs, options, name=node.name,
                           origin=_origin(node)))
        for output in outputs:
            self.producer[output] = opcode

    def _window_options(self, node, opcode: str, source: int | None) -> OpOptions:
        """Padding, strides and dilation of a conv or pool module as the converter writes them (the in-place rule
        of the memory planner needs them): VALID when the module does not pad or a PAD op already did."""
        if opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
            return NoOptions()
        module = self.modules[node.target]
        padded = not any(_pair(getattr(module, "padding", 0))) or self.producer.get(source) in ("PAD", "PADV2")
        padding = "VALID" if padded else "SAME"
        stride_h, stride_w = _pair(module.stride)
        if opcode == "CONV_2D":
            return Conv2DOptions(padding, stride_h, stride_w, *_pair(module.dilation))
        if opcode == "DEPTHWISE_CONV_2D":
            return DepthwiseConv2DOptions(padding, stride_h, stride_w, *_pair(module.dilation),
                                          depth_multiplier=module.out_channels // module.in_channels)
        return Pool2DOptions(padding, stride_h, stride_w, *_pair(module.kernel_size))

    def _weights(self, node, opcode: str) -> list[int]:
        """Filter and bias constants in TFLite's layouts: ir.analysis counts MACs and flash bytes as for a .tflite."""
        module = self.modules[node.target]
        if opcode == "CONV_2D":
            kh, kw = module.kernel_size
            filter_shape = (module.out_channels, kh, kw, module.in_channels // module.groups)
        elif opcode == "DEPTHWISE_CONV_2D":
            filter_shape = (1, *module.kernel_size, module.out_channels)
        elif opcode == "FULLY_CONNECTED":
            filter_shape = (module.out_features, module.in_features)
        else:
            return []
        weight = self._new_tensor(node, filter_shape, constant=True, suffix=":weight")
        bias = self._new_tensor(node, filter_shape[-1:] if opcode == "DEPTHWISE_CONV_2D" else filter_shape[:1],
                                constant=True, suffix=":bias", dtype="int32")
        return [weight, bias]

    def _new_tensor(self, node, shape, *, constant: bool = False, suffix: str = "", dtype: str = "int8") -> int:
        """Constants hold zero bytes of the right size: the graph is for planning and counting, not for running."""
        index = len(self.tensors)
        data = bytes(math.prod(shape) * DTYPE_BYTES[dtype]) if constant else None
        self.tensors.append(Tensor(index, node.name + suffix, tuple(shape), dtype, data=data))
        return index


def _origin(node) -> str:
    """Where the op comes from in the torch model: the module path for a layer, else the traced call and the
    innermost module it was called in (e.g. a SAP layer's attention softmax), when there is one."""
    if node.op == "call_module":
        return f"torch module {node.target}"
    stack = node.meta.get("nn_module_stack") or {}
    inside = f" in {next(reversed(stack.values()))[0]}" if stack else ""
    return f"torch {node.op} {node.name}{inside}"


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple) else (value, value)


def _is_same_padding(size: int, kernel: int, stride: int, pad: int, dilation: int) -> bool:
    """Whether torch's symmetric `pad` gives exactly TFLite's SAME padding for this axis."""
    span = dilation * (kernel - 1) + 1
    total = max((-(-size // stride) - 1) * stride + span - size, 0)
    return total == 2 * pad


def _is_tensor(node) -> bool:
    meta = node.meta.get("tensor_meta")
    return meta is not None and hasattr(meta, "shape")


def _is_tensor_tuple(node) -> bool:
    meta = node.meta.get("tensor_meta")
    return isinstance(meta, (tuple, list)) and len(meta) > 0 and all(hasattr(m, "shape") for m in meta)


def _shape(node) -> tuple[int, ...]:
    return _nhwc(node.meta["tensor_meta"].shape)


def _nhwc(shape) -> tuple[int, ...]:
    """TFLite stores 4-D activations channel-last; other ranks keep their order (only the byte count matters)."""
    shape = tuple(int(size) for size in shape)
    return (shape[0], shape[2], shape[3], shape[1]) if len(shape) == 4 else shape


def _flat(value):
    """fx nodes inside nested args/kwargs, in order."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _flat(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flat(item)
    else:
        yield value
