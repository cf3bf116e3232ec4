"""Random single-op full-int8 .tflite models, one builder per op the native C backend implements, and TFLite's
reference kernels as their oracle.

`build_model(opcode, seed)` draws one model from a seeded generator, so a failing case is reproduced from the
opcode and seed in its label. The draws cover what the kernels must get right: random shapes with odd channel
counts, SAME/VALID padding, strides, dilation, depth multipliers, grouped CONV_2D (filter depth = input depth /
groups, half of the draws; TFLite's reference kernel runs it), fused RELU/RELU6, broadcasting, constant operands.
Quantisation is what TFLite's converter writes and what its int8 kernels check in Prepare:
- weights int8 in [-127, 127] with zero point 0, one scale per output channel (CONV_2D and FULLY_CONNECTED axis 0,
  DEPTHWISE_CONV_2D axis 3); biases int32 with scale input_scale·weight_scale and zero point 0;
- LOGISTIC and SOFTMAX outputs at scale 1/256, zero point −128; TANH at 1/128, 0;
- pools, PAD/PADV2, CONCATENATION, RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE and RESIZE_NEAREST_NEIGHBOR keep the input's
  scale and zero point (the int8 kernels require equal input and output quantisation).
Output scales are sized from the expected accumulator spread, so outputs use the int8 range instead of saturating
and a wrong rounding step shows up as a mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from tests.backends.c.model_draw import Draw, accumulator_spread, options_table, weight_scales
from tests.backends.c.movement_models import MOVEMENT_BUILDERS
from tests.backends.c.unary_models import UNARY_BUILDERS
from tests.ir.tflite_models import pack


@dataclass(frozen=True)
class SingleOpModel:
    opcode: str  # TFLite builtin name, as sapool.ir.read names it
    label: str  # opcode, seed and the drawn parameters: the test id
    content: bytes  # the .tflite flatbuffer
    input_shapes: tuple[tuple[int, ...], ...]  # the graph inputs (the op's non-constant operands), in order
    output_shape: tuple[int, ...]
    input_dtypes: tuple[str, ...] = ()  # numpy names, one per input ("int8", or "float32" for QUANTIZE)
    output_dtype: str = "int8"
    float_step: float = 1.0  # float inputs are drawn around multiples of this (the QUANTIZE scale), ties included


ACTIVATIONS = ("NONE", "RELU", "RELU6")
EXTREMA = ("MAXIMUM", "MINIMUM")


def _act(name: str) -> int:
    return getattr(fb.ActivationFunctionType, name)


def _output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    return -(-size // stride) if padding == "SAME" else -(-(size - effective + 1) // stride)


def _window(draw: Draw, dilations=(1,), kernel_high=4):
    """Padding and, per spatial axis, (input size, kernel, stride, dilation, output size) as TFLite computes it."""
    padding = draw.choice(("SAME", "VALID"))
    axes = []
    for _ in "hw":
        kernel, stride, dilation = draw.int(1, kernel_high), draw.int(1, 3), draw.choice(dilations)
        effective = (kernel - 1) * dilation + 1
        size = draw.int(effective if padding == "VALID" else 1, effective + 7)
        axes.append((size, kernel, stride, dilation, _output_size(size, kernel, stride, dilation, padding)))
    return padding, *axes


def _conv_geometry(draw: Draw, shape: dict | None, channels_key: str, channel_choices):
    """A convolution's window, channels and activation: drawn, or as `shape` pins them (input=(h, w, c),
    kernel=(kh, kw), stride=(sh, sw), padding, `channels_key` and optionally dilation and activation), for tests
    that must reach a particular kernel path."""
    if shape is None:
        padding, h_axis, w_axis = _window(draw, dilations=(1, 1, 2, 3))
        return (padding, h_axis, w_axis, draw.int(1, 9), draw.choice(channel_choices),
                draw.choice(ACTIVATIONS))
    (h, w, cin), (kh, kw), (sh, sw) = shape["input"], shape["kernel"], shape["stride"]
    dh, dw = shape.get("dilation", (1, 1))
    padding = shape["padding"]
    return (padding, (h, kh, sh, dh, _output_size(h, kh, sh, dh, padding)),
            (w, kw, sw, dw, _output_size(w, kw, sw, dw, padding)), cin, shape[channels_key],
            shape.get("activation", "NONE"))


# ---- convolutions and matrix products ----

def _conv_2d(draw: Draw, shape: dict | None = None):
    padding, (h, kh, sh, dh, oh), (w, kw, sw, dw, ow), cin, cout, activation = _conv_geometry(
        draw, shape, "out_channels", range(1, 10))
    # grouped convolution (filter depth = input depth / groups) in drawn models: cin and cout are per group
    groups = draw.choice((1, 1, 2, 3)) if shape is None else 1
    in_q, out_q = draw.activation_quant(), draw.output_quant(activation)
    spread = accumulator_spread(kh * kw * cin, in_q[1], 0)
    scales = weight_scales(draw, cout * groups, in_q[0], out_q[0], spread)
    inputs = [draw.input([1, h, w, cin * groups], in_q),
              draw.weights("filter", [cout * groups, kh, kw, cin], scales, axis=0),
              draw.bias(in_q[0], scales, spread)]
    cout *= groups
    draw.note(input=(h, w, cin * groups), kernel=(kh, kw), stride=(sh, sw), dilation=(dh, dw), padding=padding,
              activation=activation, out_channels=cout, groups=groups)
    options = options_table(fb.Conv2DOptionsT, padding=getattr(fb.Padding, padding), strideH=sh, strideW=sw,
                       dilationHFactor=dh, dilationWFactor=dw, fusedActivationFunction=_act(activation))
    return inputs, draw.output([1, oh, ow, cout], out_q), options


def _depthwise_conv_2d(draw: Draw, shape: dict | None = None):
    padding, (h, kh, sh, dh, oh), (w, kw, sw, dw, ow), cin, multiplier, activation = _conv_geometry(
        draw, shape, "multiplier", (1, 1, 2, 3))
    cout = cin * multiplier
    in_q, out_q = draw.activation_quant(), draw.output_quant(activation)
    spread = accumulator_spread(kh * kw, in_q[1], 0)
    scales = weight_scales(draw, cout, in_q[0], out_q[0], spread)
    inputs = [draw.input([1, h, w, cin], in_q), draw.weights("filter", [1, kh, kw, cout], scales, axis=3),
              draw.bias(in_q[0], scales, spread)]
    draw.note(input=(h, w, cin), kernel=(kh, kw), stride=(sh, sw), dilation=(dh, dw), padding=padding,
              activation=activation, multiplier=multiplier)
    options = options_table(fb.DepthwiseConv2DOptionsT, padding=getattr(fb.Padding, padding), strideH=sh, strideW=sw,
                       dilationHFactor=dh, dilationWFactor=dw, depthMultiplier=multiplier,
                       fusedActivationFunction=_act(activation))
    return inputs, draw.output([1, oh, ow, cout], out_q), options


def _fully_connected(draw: Draw):
    depth, units, activation = draw.int(1, 40), draw.int(1, 12), draw.choice(ACTIVATIONS)
    keep_num_dims, has_bias = draw.choice((False, True)), draw.choice((False, True, True))
    shape = [*draw.shape(draw.int(0, 2), high=4), depth]
    in_q, out_q = draw.activation_quant(), draw.output_quant(activation)
    spread = accumulator_spread(depth, in_q[1], 0)
    scales = weight_scales(draw, units, in_q[0], out_q[0], spread)
    inputs = [draw.input(shape, in_q), draw.weights("weights", [units, depth], scales, axis=0),
              draw.bias(in_q[0], scales, spread) if has_bias else -1]
    out_shape = [*shape[:-1], units] if keep_num_dims else [math.prod(shape) // depth, units]
    draw.note(input=tuple(shape), units=units, bias=has_bias, keep_num_dims=keep_num_dims, activation=activation)
    options = options_table(fb.FullyConnectedOptionsT, keepNumDims=keep_num_dims,
                            fusedActivationFunction=_act(activation))
    return inputs, draw.output(out_shape, out_q), options


def _batch_matmul(draw: Draw):
    m, k, n = draw.int(1, 8), draw.int(1, 8), draw.int(1, 8)
    adj_x, adj_y = draw.choice((False, True)), draw.choice((False, True))
    batch = draw.shape(draw.int(0, 2), high=3)
    broadcast = [b if draw.int(0, 2) else 1 for b in batch][draw.int(0, len(batch)):]
    lhs_batch, rhs_batch = (batch, broadcast) if draw.int(0, 1) else (broadcast, batch)
    lhs_q, rhs_q = draw.activation_quant(), draw.activation_quant()
    spread = accumulator_spread(k, lhs_q[1], rhs_q[1])
    out_q = (float(lhs_q[0] * rhs_q[0] * spread / 50 * draw.log_uniform(0.5, 2.0)), draw.int(-100, 100))
    inputs = [draw.input([*lhs_batch, *((k, m) if adj_x else (m, k))], lhs_q),
              draw.input([*rhs_batch, *((n, k) if adj_y else (k, n))], rhs_q)]
    draw.note(lhs_batch=tuple(lhs_batch), rhs_batch=tuple(rhs_batch), mkn=(m, k, n), adj_x=adj_x, adj_y=adj_y)
    out_shape = [*np.broadcast_shapes(tuple(lhs_batch), tuple(rhs_batch)), m, n]
    return inputs, draw.output(out_shape, out_q), options_table(fb.BatchMatMulOptionsT, adjX=adj_x, adjY=adj_y)


# ---- pooling and reductions ----

def _pool_2d(draw: Draw, shape: dict | None = None):
    """`shape` pins input=(h, w, c), filter, stride, padding and optionally activation (NONE)."""
    if shape is None:
        padding, (h, kh, sh, _, oh), (w, kw, sw, _, ow) = _window(draw)
        if draw.int(0, 3) == 0:  # a global pool, as at the end of a classifier
            padding, kh, kw, sh, sw, oh, ow = "VALID", h, w, 1, 1, 1, 1
        channels, activation = draw.int(1, 9), draw.choice(ACTIVATIONS)
    else:
        (h, w, channels), (kh, kw), (sh, sw) = shape["input"], shape["filter"], shape["stride"]
        padding, activation = shape["padding"], shape.get("activation", "NONE")
        oh, ow = _output_size(h, kh, sh, 1, padding), _output_size(w, kw, sw, 1, padding)
    quant = draw.activation_quant()
    draw.note(input=(h, w, channels), filter=(kh, kw), stride=(sh, sw), padding=padding, activation=activation)
    options = options_table(fb.Pool2DOptionsT, padding=getattr(fb.Padding, padding), strideH=sh, strideW=sw,
                       filterHeight=kh, filterWidth=kw, fusedActivationFunction=_act(activation))
    return [draw.input([1, h, w, channels], quant)], draw.output([1, oh, ow, channels], quant), options


def _mean(draw: Draw):
    if draw.int(0, 2) == 0:  # the converter's global average pool: NHWC over H and W
        shape, axes, keep_dims = [1, *draw.shape(2, high=7), draw.int(1, 9)], [1, 2], True
    else:
        shape = draw.shape(draw.int(1, 5), high=6)
        axes = sorted({draw.int(0, len(shape) - 1) for _ in range(draw.int(1, len(shape)))})
        keep_dims = draw.choice((False, True))
    in_q = draw.activation_quant()
    out_q = in_q if draw.int(0, 2) == 0 else (in_q[0] * float(draw.log_uniform(0.5, 2.0)), draw.int(-100, 100))
    stored_axes = [a - len(shape) if draw.int(0, 3) == 0 else a for a in axes]
    out_shape = [1 if i in axes else d for i, d in enumerate(shape) if keep_dims or i not in axes]
    draw.note(input=tuple(shape), axes=tuple(stored_axes), keep_dims=keep_dims, requantise=out_q != in_q)
    inputs = [draw.input(shape, in_q), draw.int32_constant("axes", stored_axes)]
    return inputs, draw.output(out_shape, out_q), options_table(fb.ReducerOptionsT, keepDims=keep_dims)


# ---- elementwise ----

def _binary(draw: Draw, opcode: str, shape: dict | None = None):
    """`shape` pins lhs, rhs and optionally activation (NONE) and constant (False) for tests of a kernel path."""
    if shape is None:
        rank, activation = draw.int(1, 5), draw.choice(ACTIVATIONS)  # 5-D: SAP's window tensors (DESIGN §3)
        lhs, rhs = [], []
        for dim in draw.shape(rank, high=5):
            kind = draw.int(0, 3)  # 0, 3: same size; 1: lhs broadcasts; 2: rhs broadcasts
            lhs.append(1 if kind == 1 else dim)
            rhs.append(1 if kind == 2 else dim)
        if draw.int(0, 2) == 0:
            rhs = rhs[draw.int(1, rank):]  # fewer dimensions, down to a scalar
    else:
        lhs, rhs, activation = list(shape["lhs"]), list(shape["rhs"]), shape.get("activation", "NONE")
    out_q = draw.output_quant(activation)
    if opcode in EXTREMA:  # no rescaling in TFLite: operands and result share one quantisation, no activation
        activation, out_q = "NONE", draw.activation_quant()
        lhs_q = rhs_q = out_q
    elif opcode == "MUL":
        lhs_q = (float(draw.log_uniform(0.005, 0.2)), draw.int(-100, 100))
        rhs_zero = draw.int(-100, 100)
        spread = accumulator_spread(1, lhs_q[1], rhs_zero)
        rhs_q = (float(out_q[0] * 50 / (lhs_q[0] * spread) * draw.log_uniform(0.5, 2.0)), rhs_zero)
    else:
        lhs_q = (float(out_q[0] * draw.log_uniform(0.3, 1.5)), draw.int(-100, 100))
        rhs_q = (float(out_q[0] * draw.log_uniform(0.3, 1.5)), draw.int(-100, 100))
    constant = draw.int(0, 3) == 0 if shape is None else shape.get("constant", False)
    inputs = [draw.input(lhs, lhs_q), draw.operand(rhs, rhs_q, constant)]
    draw.note(lhs=tuple(lhs), rhs=tuple(rhs), constant_rhs=constant, activation=activation)
    out_shape = list(np.broadcast_shapes(tuple(lhs), tuple(rhs)))
    if opcode in EXTREMA:
        return inputs, draw.output(out_shape, out_q), None
    options_class = {"ADD": fb.AddOptionsT, "SUB": fb.SubOptionsT, "MUL": fb.MulOptionsT}[opcode]
    return inputs, draw.output(out_shape, out_q), options_table(options_class, fusedActivationFunction=_act(activation))


def _softmax(draw: Draw):
    rows = [draw.int(1, 3), draw.int(1, 40)]
    image = [1, draw.int(1, 5), draw.int(1, 5), draw.int(1, 12)]
    windows = [1, draw.int(1, 4), draw.int(1, 3), draw.int(1, 3), draw.choice((4, 9, 16))]  # SAP's window softmax
    shape, beta = draw.choice((rows, image, windows)), draw.choice((1.0, 1.0, 0.5, 2.0))
    in_q = (float(draw.log_uniform(0.005, 0.15)), draw.int(-100, 100))
    draw.note(input=tuple(shape), beta=beta, input_scale=round(in_q[0], 5))
    out = draw.output(shape, (1 / 256, -128))
    return [draw.input(shape, in_q)], out, options_table(fb.SoftmaxOptionsT, beta=beta)


BUILDERS = {
    "CONV_2D": _conv_2d, "DEPTHWISE_CONV_2D": _depthwise_conv_2d, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool_2d, "MAX_POOL_2D": _pool_2d,
    **{opcode: partial(_binary, opcode=opcode) for opcode in ("ADD", "SUB", "MUL", *EXTREMA)},
    "SOFTMAX": _softmax, "MEAN": _mean, "BATCH_MATMUL": _batch_matmul,
    **MOVEMENT_BUILDERS, **UNARY_BUILDERS,
}
OPCODES = tuple(BUILDERS)


def build_model(opcode: str, seed: int, **shape) -> SingleOpModel:
    """One random model for `opcode` (one of OPCODES); the same opcode and seed give the same bytes. CONV_2D and
    DEPTHWISE_CONV_2D take a `shape` that pins the geometry (see _conv_geometry), ADD/SUB/MUL one that pins the
    operand shapes (_binary), the pools one that pins the window (_pool_2d); weights and quantisation are still
    drawn from the seed."""
    draw = Draw(seed)
    inputs, output, options = BUILDERS[opcode](draw, **({"shape": shape} if shape else {}))
    draw.builder.op(getattr(fb.BuiltinOperator, opcode), inputs, [output], options)
    model = draw.builder.build(draw.inputs, [output])
    tensors = draw.builder.tensors
    label = " ".join([f"{opcode}[seed={seed}]", *(f"{k}={v}" for k, v in draw.params.items())])
    return SingleOpModel(opcode=opcode, label=label, content=pack(model),
                         input_shapes=tuple(tuple(tensors[i].shape) for i in draw.inputs),
                         output_shape=tuple(tensors[output].shape),
                         input_dtypes=tuple(_NUMPY_TYPES[tensors[i].type] for i in draw.inputs),
                         output_dtype=_NUMPY_TYPES[tensors[output].type], float_step=draw.float_step)


_NUMPY_TYPES = {fb.TensorType.INT8: "int8", fb.TensorType.FLOAT32: "float32"}


def seeded_models(opcode: str, count: int, first_seed: int = 0) -> list[SingleOpModel]:
    """`count` models for `opcode` from consecutive seeds: a fixed parameter grid that is the same on every run."""
    return [build_model(opcode, seed) for seed in range(first_seed, first_seed + count)]


def random_inputs(model: SingleOpModel, seed: int) -> list[np.ndarray]:
    """Uniform int8 values over the whole range for each int8 input; for a float32 input, values over the int8
    range of `float_step` and a little beyond, a third of them exact rounding ties (k + 1/2)·step."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape, dtype in zip(model.input_shapes, model.input_dtypes, strict=True):
        if dtype == "int8":
            arrays.append(rng.integers(-128, 128, shape, dtype=np.int8))
            continue
        fractions = np.where(rng.random(shape) < 1 / 3, 0.5, rng.uniform(-0.5, 0.5, shape))
        steps = rng.integers(-150, 150, shape) + fractions
        arrays.append((steps * model.float_step).astype(np.float32))
    return arrays


def run_reference(content: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of TFLite's reference kernels (BUILTIN_REF; the default optimised kernels may differ by ±1 LSB)."""
    interpreter = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    for detail, array in zip(interpreter.get_input_details(), inputs, strict=True):
        interpreter.set_tensor(detail["index"], array)
    interpreter.invoke()
    return [interpreter.get_tensor(detail["index"]) for detail in interpreter.get_output_details()]
