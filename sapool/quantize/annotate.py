"""sapool's PT2E annotator: every activation of a CNN (SAP, LIP and the baseline poolings included) gets an int8
quantisation that the TFLite converter can lower to an int8 op, so the exported model has no float op and no
DEQUANTIZE.

Why not litert-torch 0.10's stock `PT2EQuantizer` (measured, DESIGN.md §3/§8): it annotates conv, linear, add,
mul, max-pool, adaptive-avg-pool, cat, sigmoid and `_softmax` only, so avg_pool2d, bmm, softmax.int, reshapes
after an unannotated op, upsampling and mean stay float (DEQUANTIZE … QUANTIZE around them), and its module-type
filter (`set_module_type(nn.Linear, …)`) does nothing. The rules here, one per op family, on the aten graph of
`torch.export` (BatchNorm already folded into its conv by `prepare_pt2e`):

- weighted (conv2d, linear): int8 activation input, int8 symmetric weights per output channel (ch_axis 0; the
  converter moves it to TFLite's axis), float bias (the converter writes int32 bias at input × weight scale);
- a ReLU / ReLU6 / clamp that is the only reader of a conv, linear, add or mul output is fused: the producer's
  output is not observed, the activation's is (TFLite's fused activation, range [0, 6] instead of the raw one);
- same-scale ops (reshape/view/flatten/permute/transpose/squeeze/slice, padding, max and average pooling,
  nearest upsampling, mean, dropout/clone): output shares its input's observer, so the int8 op needs no
  rescaling and TFLite-Micro's kernels that require equal input/output quantisation (pooling, reshape,
  transpose) accept it;
- concatenation, elementwise maximum and minimum: every input and the output share the first input's observer (one
  scale: TFLite-Micro concatenates int8 at one scale, and int8 MAXIMUM/MINIMUM compare raw values);
- fixed-range ops: sigmoid and softmax output at scale 1/256, zero point −128, tanh at 1/128, 0, as TFLite-Micro
  requires;
- arithmetic (add, sub, mul, bmm, matmul): own output observer; constant operands (SAP's polynomial coefficients,
  position embeddings) are quantised as int8 tensors;
- activations with their own int8 op (hardswish, leaky_relu, gelu): the input read as it is, own output observer;
  their other arguments (the slope, the approximation) are options, not tensors;
- silu, prelu and a batch_norm PT2E cannot fold are written out as the int8 ops above first (decompose.py):
  litert-torch would decompose them only after annotation, into float ops.
Any other aten op raises UnsupportedError naming the op, its node and the module it came from: better than a model
with a float island.
"""

from __future__ import annotations

import torch
from torch.fx import GraphModule, Node
from torchao.quantization.pt2e.observer import HistogramObserver, PerChannelMinMaxObserver
from torchao.quantization.pt2e.quantizer import (
    FixedQParamsQuantizationSpec,
    QuantizationAnnotation,
    QuantizationSpec,
    Quantizer,
    SharedQuantizationSpec,
)

from sapool.errors import UnsupportedError
from sapool.quantize.decompose import constant_node, decompose_for_int8
from sapool.quantize.fold_affine import fold_affine_into_layers
from sapool.quantize.origin import node_origin

aten = torch.ops.aten

ACTIVATION_SPEC = QuantizationSpec(
    dtype=torch.int8, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine,
    observer_or_fake_quant_ctr=HistogramObserver.with_args(eps=2**-12))
WEIGHT_SPEC = QuantizationSpec(
    dtype=torch.int8, quant_min=-127, quant_max=127, qscheme=torch.per_channel_symmetric, ch_axis=0,
    observer_or_fake_quant_ctr=PerChannelMinMaxObserver.with_args(eps=2**-12))
# TFLite-Micro's int8 LOGISTIC and SOFTMAX only accept outputs on [0, 1) at scale 1/256, zero point -128.
UNIT_INTERVAL_SPEC = FixedQParamsQuantizationSpec(
    dtype=torch.int8, scale=1 / 256, zero_point=-128, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine)
# ... and its int8 TANH only outputs on [-1, 1) at scale 1/128, zero point 0.
SIGNED_UNIT_INTERVAL_SPEC = FixedQParamsQuantizationSpec(
    dtype=torch.int8, scale=1 / 128, zero_point=0, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine)

WEIGHTED = frozenset({aten.conv2d.default, aten.linear.default})
FUSABLE_ACTIVATIONS = frozenset({aten.relu.default, aten.relu_.default, aten.relu6.default, aten.hardtanh.default,
                                 aten.hardtanh_.default, aten.clamp.default})
RELU6_LIKE = frozenset({aten.hardtanh.default, aten.hardtanh_.default, aten.clamp.default})
FUSING_PRODUCERS = WEIGHTED | {aten.add.Tensor, aten.mul.Tensor, aten.sub.Tensor}
SAME_SCALE = frozenset({
    aten.view.default, aten.reshape.default, aten._unsafe_view.default, aten.flatten.using_ints,
    aten.permute.default, aten.transpose.int, aten.t.default, aten.squeeze.dim, aten.squeeze.dims,
    aten.unsqueeze.default, aten.max_pool2d.default, aten.avg_pool2d.default, aten.upsample_nearest2d.vec,
    aten.upsample_nearest2d.default, aten.mean.dim, aten.adaptive_avg_pool2d.default, aten.dropout.default,
    aten.clone.default, aten.contiguous.default, aten.alias.default, aten.pad.default,
    aten.constant_pad_nd.default, aten.slice.Tensor, aten.unflatten.int, aten.select.int, aten.expand.default,
})
CONCATENATION = frozenset({aten.cat.default, aten.concat.default})
SHARED_OPERANDS = frozenset({aten.maximum.default, aten.minimum.default})
UNIT_INTERVAL = frozenset({aten.sigmoid.default, aten.softmax.int, aten._softmax.default})
SIGNED_UNIT_INTERVAL = frozenset({aten.tanh.default})
OWN_RANGE = frozenset({aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor, aten.bmm.default, aten.matmul.default})
UNARY_OWN_RANGE = frozenset({aten.hardswish.default, aten.leaky_relu.default, aten.gelu.default, aten.rsqrt.default})
IGNORED = frozenset({aten._assert_tensor_metadata.default})


class Int8Annotator(Quantizer):
    """Full-integer int8 annotation of a `torch.export` graph (see the module docstring for the rules).
    `origins` (node name → place in the user's file, quantize.origin.source_origins) names where a refused op
    came from when the graph's own module stack cannot."""

    def __init__(self, origins: dict[str, str] | None = None):
        super().__init__()
        self.origins = origins or {}

    def transform_for_annotation(self, model: GraphModule) -> GraphModule:
        """silu, prelu and unfolded batch_norm are written out as int8-friendly ops (decompose.py), and a per-channel
        ADD/SUB/MUL by a constant after a conv or linear layer (a separate bias, a BatchNorm) is folded into that
        layer (fold_affine.py); Python numbers in arithmetic (x * 0.5, y * 4) become float32 constant tensors,
        quantised like weights (litert-torch's own pass keeps Python ints as int64 tensors, which no observer
        accepts)."""
        decompose_for_int8(model, self.origins)
        fold_affine_into_layers(model)
        for node in list(model.graph.nodes):
            if node.op == "call_function" and node.target in OWN_RANGE:
                node.args = tuple(_as_constant(model, node, arg) for arg in node.args)
        model.recompile()
        return model

    def annotate(self, model: GraphModule) -> GraphModule:
        for node in model.graph.nodes:
            if node.op == "call_function" and node.target not in IGNORED and _is_float_tensor(node):
                _annotate_node(node, self.origins)
        return model

    def validate(self, model: GraphModule) -> None:
        """Nothing to check after annotation: `annotate` raised already for anything it cannot quantise."""


def _as_constant(model: GraphModule, node: Node, arg):
    if isinstance(arg, Node) or not isinstance(arg, (int, float)):
        return arg
    return constant_node(model, node, torch.tensor(float(arg), dtype=torch.float32))


def _annotate_node(node: Node, origins: dict[str, str]) -> None:
    target = node.target
    if target in WEIGHTED:
        inputs = {node.args[0]: _activation_input(node.args[0]), node.args[1]: WEIGHT_SPEC}
        _set(node, inputs, None if _fused_activation(node) is not None else ACTIVATION_SPEC)
    elif target in FUSABLE_ACTIVATIONS:
        producer = node.args[0]
        fused = _fused_activation(producer) is node
        _set(node, {} if fused else {producer: _activation_input(producer)}, ACTIVATION_SPEC)
    elif target in SAME_SCALE:
        source = node.args[0]
        _set(node, {source: _activation_input(source)}, SharedQuantizationSpec((source, node)))
    elif target in CONCATENATION or target in SHARED_OPERANDS:
        first, *others = node.args[0] if target in CONCATENATION else node.args[:2]
        shared = SharedQuantizationSpec((first, node))  # one scale for every operand and the result
        _set(node, {first: _activation_input(first), **{other: shared for other in others}}, shared)
    elif target in UNIT_INTERVAL:
        _set(node, {node.args[0]: _activation_input(node.args[0])}, UNIT_INTERVAL_SPEC)
    elif target in SIGNED_UNIT_INTERVAL:
        _set(node, {node.args[0]: _activation_input(node.args[0])}, SIGNED_UNIT_INTERVAL_SPEC)
    elif target in UNARY_OWN_RANGE:
        _set(node, {node.args[0]: _activation_input(node.args[0])}, ACTIVATION_SPEC)
    elif target in OWN_RANGE:
        inputs = {arg: _activation_input(arg) for arg in node.args if isinstance(arg, Node)}
        _set(node, inputs, None if _fused_activation(node) is not None else ACTIVATION_SPEC)
    else:
        raise UnsupportedError(
            f"op {_op_name(target)} (aten node {node.name}{node_origin(node, origins)}) has no int8 lowering in "
            "sapool's quantiser")


def _activation_input(source: Node):
    """Read an already-annotated tensor through its own observer; observe anything else (graph input, constant)."""
    annotation = source.meta.get("quantization_annotation")
    if annotation is not None and annotation.output_qspec is not None:
        return SharedQuantizationSpec(source)
    return ACTIVATION_SPEC


def _fused_activation(producer) -> Node | None:
    """The ReLU or ReLU6 (clamp to [0, 6]) that TFLite fuses into `producer`, if that is its only reader."""
    if not isinstance(producer, Node) or producer.target not in FUSING_PRODUCERS or len(producer.users) != 1:
        return None
    (user,) = producer.users
    if user.target not in FUSABLE_ACTIVATIONS or user.args[0] is not producer:
        return None
    if user.target in RELU6_LIKE and (list(user.args[1:3]) + [None, None])[:2] != [0, 6]:
        return None  # a clamp TFLite has no fused form for (ReLU6 is clamp(0, 6))
    return user


def _set(node: Node, inputs: dict, output) -> None:
    node.meta["quantization_annotation"] = QuantizationAnnotation(
        input_qspec_map=inputs, output_qspec=output, _annotated=True)


def _is_float_tensor(node: Node) -> bool:
    value = node.meta.get("val")
    return isinstance(value, torch.Tensor) and value.is_floating_point()


def _op_name(target) -> str:
    """"cumsum" for aten.cumsum.default."""
    name = getattr(target, "__name__", str(target))
    return name.split(".")[0]
