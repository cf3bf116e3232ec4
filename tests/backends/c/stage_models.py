"""Random int8 chains of 2-4 spatial ops (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D): one model per seed,
for running them as one patch stage (passes/patches.py) against TFLite's reference kernels.

Each op draws its own window (a third of the CONV_2Ds with an even input depth are grouped) (kernel 1-4, stride 1-2, dilation 1-2 for the convolutions, SAME or VALID) on the
previous op's output, so border patches meet every kind of padding, odd sizes and uneven tiles. Terminal-stage
models (build_terminal_stage_model) end the chain in 2-3 ops that all read its last tensor with one shared window
(kernel, stride, padding; dilation 1) and are each a model output: a stage with several terminal ops. Quantisation as
in single_op_models: per-channel int8 weights, int32 biases, output scales sized from the accumulator spread;
pools keep their input's quantisation.
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as fb

from tests.backends.c.model_draw import Draw, accumulator_spread, options_table, weight_scales
from tests.backends.c.single_op_models import ACTIVATIONS, SingleOpModel, _act
from tests.ir.tflite_models import make_quantization, pack

KINDS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")


def _axis(draw: Draw, size: int, padding: str, dilated: bool):
    """(kernel, stride, dilation, output size) for one axis of `size` input pixels."""
    kernel, stride, dilation = draw.int(1, 4), draw.int(1, 2), draw.choice((1, 1, 2)) if dilated else 1
    span = (kernel - 1) * dilation + 1
    if padding == "VALID" and span > size:
        kernel, dilation, span = 1, 1, 1
    out = -(-size // stride) if padding == "SAME" else -(-(size - span + 1) // stride)
    return kernel, stride, dilation, out


def _window(draw: Draw, shape, dilated: bool):
    """(padding, row axis, column axis) of one op's window on an input of `shape`, axes as _axis gives them."""
    padding = draw.choice(("SAME", "VALID"))
    return padding, _axis(draw, shape[1], padding, dilated), _axis(draw, shape[2], padding, dilated)


def _op(draw: Draw, kind: str, source: int, shape, quant, position: int, window=None):
    """Add one op reading `source` (shape [1, h, w, c], quantisation `quant`), with `window` (_window) or its
    own; returns (output, shape, quant)."""
    channels = shape[3]
    conv = kind in ("CONV_2D", "DEPTHWISE_CONV_2D")
    padding, (kh, sh, dh, oh), (kw, sw, dw, ow) = window or _window(draw, shape, conv)
    activation = draw.choice(ACTIVATIONS)
    builder = draw.builder
    draw.params[f"op{position}"] = (kind, padding, (kh, kw), (sh, sw), (dh, dw))
    if not conv:
        output = builder.tensor(f"t{position}", [1, oh, ow, channels], quantization=make_quantization(*quant))
        options = options_table(fb.Pool2DOptionsT, padding=getattr(fb.Padding, padding), strideH=sh, strideW=sw,
                                filterHeight=kh, filterWidth=kw, fusedActivationFunction=_act("NONE"))
        builder.op(getattr(fb.BuiltinOperator, kind), [source], [output], options)
        return output, [1, oh, ow, channels], quant
    groups = 2 if kind == "CONV_2D" and channels % 2 == 0 and draw.int(0, 2) == 0 else 1  # grouped CONV_2D
    out_c = groups * draw.int(1, 5) if kind == "CONV_2D" else channels * draw.choice((1, 1, 2))
    out_q = draw.output_quant(activation)
    depth = kh * kw * (channels // groups if kind == "CONV_2D" else 1)
    spread = accumulator_spread(depth, quant[1], 0)
    scales = weight_scales(draw, out_c, quant[0], out_q[0], spread)
    filter_shape, axis = ([out_c, kh, kw, channels // groups], 0) if kind == "CONV_2D" else ([1, kh, kw, out_c], 3)
    draw.params[f"op{position}"] += (f"groups={groups}",)
    inputs = [source, draw.weights(f"filter{position}", filter_shape, scales, axis=axis),
              draw.bias(quant[0], scales, spread)]
    output = builder.tensor(f"t{position}", [1, oh, ow, out_c], quantization=make_quantization(*out_q))
    fields = dict(padding=getattr(fb.Padding, padding), strideH=sh, strideW=sw, dilationHFactor=dh,
                  dilationWFactor=dw, fusedActivationFunction=_act(activation))
    if kind == "CONV_2D":
        options = options_table(fb.Conv2DOptionsT, **fields)
    else:
        options = options_table(fb.DepthwiseConv2DOptionsT, depthMultiplier=out_c // channels, **fields)
    builder.op(getattr(fb.BuiltinOperator, kind), inputs, [output], options)
    return output, [1, oh, ow, out_c], out_q


def build_stage_model(seed: int) -> SingleOpModel:
    """One random chain; the first op is a convolution (a stage has at least two ops, each with work)."""
    draw = Draw(seed)
    shape = [1, draw.int(6, 24), draw.int(6, 24), draw.int(1, 5)]
    quant = draw.activation_quant()
    tensor = draw.input(shape, quant)
    count = draw.int(2, 4)
    for position in range(count):
        kind = draw.choice(KINDS[:2]) if position == 0 else draw.choice(KINDS)
        tensor, shape, quant = _op(draw, kind, tensor, shape, quant, position)
    model = draw.builder.build(draw.inputs, [tensor])
    label = " ".join([f"stage[seed={seed}]", *(f"{k}={v}" for k, v in draw.params.items())])
    tensors = draw.builder.tensors
    return SingleOpModel(opcode="STAGE", label=label, content=pack(model),
                         input_shapes=tuple(tuple(tensors[i].shape) for i in draw.inputs),
                         output_shape=tuple(tensors[tensor].shape), input_dtypes=("int8",))


def build_terminal_stage_model(seed: int) -> SingleOpModel:
    """A random chain of 1-3 ops (the first a convolution) whose last output is read by 2-3 terminal ops of
    random kinds sharing one window; every terminal output is a model output (output_shape: the first's)."""
    draw = Draw(seed)
    shape = [1, draw.int(6, 24), draw.int(6, 24), draw.int(1, 5)]
    quant = draw.activation_quant()
    tensor = draw.input(shape, quant)
    chain = draw.int(1, 3)
    for position in range(chain):
        kind = draw.choice(KINDS[:2]) if position == 0 else draw.choice(KINDS)
        tensor, shape, quant = _op(draw, kind, tensor, shape, quant, position)
    window = _window(draw, shape, dilated=False)
    outputs = [_op(draw, draw.choice(KINDS), tensor, shape, quant, chain + k, window)
               for k in range(draw.int(2, 3))]
    model = draw.builder.build(draw.inputs, [output for output, _, _ in outputs])
    label = " ".join([f"terminals[seed={seed}]", *(f"{k}={v}" for k, v in draw.params.items())])
    tensors = draw.builder.tensors
    return SingleOpModel(opcode="STAGE", label=label, content=pack(model),
                         input_shapes=tuple(tuple(tensors[i].shape) for i in draw.inputs),
                         output_shape=tuple(outputs[0][1]), input_dtypes=("int8",))
