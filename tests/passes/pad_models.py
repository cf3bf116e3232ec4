"""Random int8 models of a PAD (or PADV2) feeding a CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D or AVERAGE_POOL_2D, as
exporters write torch's `padding=k // 2`: the graphs sapool.passes.fold_pad rewrites, and TFLite's reference
kernels as their oracle."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from tests.backends.c.model_draw import Draw, accumulator_spread, options_table, weight_scales
from tests.backends.c.single_op_models import SingleOpModel
from tests.ir.tflite_models import make_quantization, pack


def _padded_input(draw: Draw, fill: str):
    """(PAD's output index, its shape, its quantisation): an NHWC image padded 0-2 per side with `fill`
    ("zero point" through PAD, "-128" or "other" through PADV2)."""
    shape = [1, draw.int(3, 7), draw.int(3, 7), draw.int(1, 5)]
    quant = draw.activation_quant()
    pads = [[0, 0], [draw.int(0, 2), draw.int(0, 2)], [draw.int(0, 2), draw.int(0, 2)], [0, 0]]
    inputs = [draw.input(shape, quant), draw.int32_constant("paddings", pads)]
    if fill != "zero point":
        value = -128 if fill == "-128" else (quant[1] + 1 if quant[1] < 127 else 0)
        inputs.append(draw.builder.tensor("pad_value", [], quantization=make_quantization(*quant),
                                          data=np.array(value, np.int8)))
    padded_shape = [d + before + after for d, (before, after) in zip(shape, pads)]
    padded = draw.builder.tensor("padded", padded_shape, quantization=make_quantization(*quant))
    opcode = fb.BuiltinOperator.PAD if fill == "zero point" else fb.BuiltinOperator.PADV2
    draw.builder.op(opcode, inputs, [padded], fb.PadOptionsT() if fill == "zero point" else fb.PadV2OptionsT())
    draw.note(input=tuple(shape[1:]), pads=[tuple(p) for p in pads[1:3]], fill=fill)
    return padded, padded_shape, quant


def _window(draw: Draw, size: int, kernel: int, stride: int, padding: str) -> int:
    return -(-size // stride) if padding == "SAME" else (size - kernel) // stride + 1


def build_pad_model(opcode: str, seed: int, fill: str = "zero point") -> SingleOpModel:
    """PAD → `opcode`, geometry, weights and quantisation drawn from `seed`."""
    draw = Draw(seed)
    padded, (_, h, w, c), in_q = _padded_input(draw, fill)
    kernel = draw.int(1, 3) if opcode.endswith("CONV_2D") else draw.int(2, 3)
    kernel = min(kernel, h, w)
    stride, padding = draw.int(1, 2), draw.choice(("VALID", "VALID", "SAME"))
    out_h, out_w = (_window(draw, size, kernel, stride, padding) for size in (h, w))
    draw.note(kernel=kernel, stride=stride, padding=padding)
    common = dict(padding=getattr(fb.Padding, padding), strideH=stride, strideW=stride)
    if opcode in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        inputs, out_c, out_q = [padded], c, in_q
        options = options_table(fb.Pool2DOptionsT, filterHeight=kernel, filterWidth=kernel, **common)
    else:
        out_q = draw.activation_quant()
        depthwise = opcode == "DEPTHWISE_CONV_2D"
        out_c = c if depthwise else draw.int(1, 6)
        spread = accumulator_spread(kernel * kernel * (1 if depthwise else c), in_q[1], 0)
        scales = weight_scales(draw, out_c, in_q[0], out_q[0], spread)
        filter_shape = [1, kernel, kernel, out_c] if depthwise else [out_c, kernel, kernel, c]
        inputs = [padded, draw.weights("filter", filter_shape, scales, axis=3 if depthwise else 0),
                  draw.bias(in_q[0], scales, spread)]
        table = fb.DepthwiseConv2DOptionsT if depthwise else fb.Conv2DOptionsT
        extra = {"depthMultiplier": 1} if depthwise else {}
        options = options_table(table, dilationHFactor=1, dilationWFactor=1, **common, **extra)
    output = draw.output([1, out_h, out_w, out_c], out_q)
    draw.builder.op(getattr(fb.BuiltinOperator, opcode), inputs, [output], options)
    model = draw.builder.build(draw.inputs, [output])
    label = " ".join([f"PAD+{opcode}[seed={seed}]", *(f"{k}={v}" for k, v in draw.params.items())])
    tensors = draw.builder.tensors
    return SingleOpModel(opcode=opcode, label=label, content=pack(model),
                         input_shapes=(tuple(tensors[draw.inputs[0]].shape),), output_shape=(1, out_h, out_w, out_c),
                         input_dtypes=("int8",))
