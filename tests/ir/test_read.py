"""ir.read against LiteRT's own interpreter, on the MLPerf Tiny models and on small models built in tflite_models."""

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from sapool.errors import BadInputError
from sapool.ir.analysis import model_macs
from sapool.ir.options import (ConcatenationOptions, Conv2DOptions, DepthwiseConv2DOptions, ElementwiseOptions,
                               NoOptions, OtherOptions, Pool2DOptions, ReducerOptions, ReshapeOptions, SoftmaxOptions)
from sapool.ir.read import read_tflite, read_tflite_bytes
from tests.conftest import shared_model
from tests.ir.tflite_models import make_opcode, make_operator, pack, tiny_float_model

# Operator counts per model, from /work/shared/models/mlperf_tiny/README.md.
EXPECTED_OP_COUNTS = {
    "vww_96_int8": {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                    "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "pretrainedResnet_quant": {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1,
                               "SOFTMAX": 1},
    "kws_ref_model": {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                      "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "ad01_int8": {"FULLY_CONNECTED": 10},
}


@pytest.fixture
def float_model_file(tmp_path):
    path = tmp_path / "tiny_float.tflite"
    path.write_bytes(pack(tiny_float_model()))
    return path


def _interpreter(content: bytes) -> Interpreter:
    """Reference kernels: the default XNNPACK path rewrites quantisation in allocate_tensors (vww's per-tensor FC
    weights come back with one scale per output channel), so it would not show the model as stored."""
    interpreter = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    return interpreter


def assert_matches_interpreter(graph, content: bytes):
    """Names, shapes, dtypes, quantisation, graph I/O and constant bytes agree with LiteRT's view of the model."""
    interpreter = _interpreter(content)
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    # Kernels may append scratch tensors at allocation (litert_torch's float conv does), after the model's own.
    assert set(range(len(graph.tensors))) <= details.keys()
    for tensor in graph.tensors:
        detail = details[tensor.index]
        assert tensor.name == detail["name"]
        assert tensor.shape == tuple(detail["shape"])
        assert tensor.dtype == np.dtype(detail["dtype"]).name
        params = detail["quantization_parameters"]
        if len(params["scales"]) == 0:
            assert tensor.quantization is None
        else:
            assert np.array_equal(np.float32(tensor.quantization.scale), params["scales"])
            assert tensor.quantization.zero_point == tuple(params["zero_points"])
            assert tensor.quantization.axis == params["quantized_dimension"]
        if tensor.is_constant:
            assert tensor.data == interpreter.get_tensor(detail["index"]).tobytes()
    assert graph.inputs == tuple(d["index"] for d in interpreter.get_input_details())
    assert graph.outputs == tuple(d["index"] for d in interpreter.get_output_details())


# ---- the MLPerf Tiny models ----

def test_mlperf_models_match_interpreter(mlperf_model):
    assert_matches_interpreter(read_tflite(mlperf_model), mlperf_model.read_bytes())


def test_mlperf_op_counts_and_graph_io(mlperf_model):
    graph = read_tflite(mlperf_model)
    assert graph.name == mlperf_model.stem
    assert Counter(op.opcode for op in graph.ops) == EXPECTED_OP_COUNTS[mlperf_model.stem]
    assert [op.index for op in graph.ops] == list(range(len(graph.ops)))
    assert all(t.dtype == "int8" for t in graph.activations())
    assert not any(t.is_variable for t in graph.tensors)


def test_mlperf_constant_bytes_total_as_documented(mlperf_model):
    documented = {"vww_96_int8": 219072, "pretrainedResnet_quant": 78752, "kws_ref_model": 24376, "ad01_int8": 270880}
    graph = read_tflite(mlperf_model)
    assert sum(t.nbytes for t in graph.tensors if t.is_constant) == documented[mlperf_model.stem]


def test_vww_options_and_per_channel_quantization():
    graph = read_tflite(shared_model("vww_96_int8"))
    first_conv, first_depthwise = graph.ops[0], graph.ops[1]
    assert first_conv.opcode == "CONV_2D"
    assert first_conv.options == Conv2DOptions(padding="SAME", stride_h=2, stride_w=2, dilation_h=1, dilation_w=1,
                                               activation="RELU")
    assert first_conv.name == graph.tensor(first_conv.outputs[0]).name and first_conv.origin == "tflite operator 0"
    assert first_depthwise.opcode == "DEPTHWISE_CONV_2D"
    assert first_depthwise.options.depth_multiplier == 1
    assert first_depthwise.options.stride_h == 1
    pool = next(op for op in graph.ops if op.opcode == "AVERAGE_POOL_2D")
    assert (pool.options.filter_h, pool.options.filter_w, pool.options.padding) == (3, 3, "VALID")
    assert graph.ops[-1].options == SoftmaxOptions(beta=1.0)
    depthwise_filter = graph.tensor(first_depthwise.inputs[1])
    assert depthwise_filter.quantization.per_channel
    assert depthwise_filter.quantization.axis == 3
    assert len(depthwise_filter.quantization.scale) == depthwise_filter.shape[3]
    input_q = graph.tensor(graph.inputs[0]).quantization
    assert input_q.zero_point == (-128,) and input_q.scale == pytest.approx((0.00392156886,))


def test_resnet_add_options():
    graph = read_tflite(shared_model("pretrainedResnet_quant"))
    add = next(op for op in graph.ops if op.opcode == "ADD")
    assert add.options == ElementwiseOptions(activation="RELU")
    assert len(add.inputs) == 2 and all(graph.is_activation(i) for i in add.inputs)


# ---- small models ----

def test_float_model_matches_interpreter_and_runs(float_model_file):
    content = float_model_file.read_bytes()
    graph = read_tflite(float_model_file)
    assert_matches_interpreter(graph, content)
    interpreter = _interpreter(content)
    interpreter.set_tensor(0, np.ones((1, 4, 4, 2), np.float32))
    interpreter.invoke()  # the hand-built model is a valid one, not just one our reader accepts
    assert [t.dtype for t in graph.tensors] == ["float32"] * 6
    assert [op.opcode for op in graph.ops] == ["CONV_2D", "FULLY_CONNECTED"]
    assert graph.ops[1].inputs == (3, 4, None)
    assert graph.ops[0].options.activation == "RELU6"
    assert graph.ops[0].options.padding == "SAME"
    assert np.frombuffer(graph.tensor(2).data, np.float32).tolist() == [0.5, -0.25, 1.0]
    assert [t.index for t in graph.activations()] == [0, 3, 5]


def test_opcode_only_in_the_new_field():
    """Writers may leave deprecated_builtin_code 0 (= ADD): TFLite takes max() of the two fields."""
    model = tiny_float_model()
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.CONV_2D, deprecated=0),
                           make_opcode(fb.BuiltinOperator.FULLY_CONNECTED, deprecated=0)]
    content = pack(model)
    _interpreter(content).invoke()  # LiteRT resolves these to CONV_2D and FULLY_CONNECTED too
    assert [op.opcode for op in read_tflite_bytes(content, "m").ops] == ["CONV_2D", "FULLY_CONNECTED"]


def test_opcode_name_rule_and_custom_ops():
    model = tiny_float_model()
    model.operatorCodes = [
        make_opcode(builtin=0, deprecated=fb.BuiltinOperator.CONV_2D),  # old writer: only the int8 field is set
        make_opcode(builtin=fb.BuiltinOperator.GELU, deprecated=127),  # code > 127: placeholder in the int8 field
        make_opcode(builtin=fb.BuiltinOperator.CUSTOM, custom="MyKernel"),
        make_opcode(builtin=250, deprecated=127),  # newer than the schema sapool knows
    ]
    model.subgraphs[0].operators[1].opcodeIndex = 1
    model.subgraphs[0].operators += [make_operator(2, [5], [5]), make_operator(3, [5], [5])]
    assert [op.opcode for op in read_tflite_bytes(pack(model), "m").ops] == [
        "CONV_2D", "GELU", "CUSTOM:MyKernel", "UNKNOWN_BUILTIN_250"]


def _options(options_class, **fields):
    options = options_class()
    for field, value in fields.items():
        setattr(options, field, value)
    return options


def test_builtin_options_decoding():
    """Enum fields by name, vectors as tuples, typed options for the tables the planner and backends use."""
    cases = [
        ("MAX_POOL_2D", fb.BuiltinOptions.Pool2DOptions,
         _options(fb.Pool2DOptionsT, padding=fb.Padding.VALID, strideW=2, strideH=3, filterWidth=4, filterHeight=5,
                  fusedActivationFunction=fb.ActivationFunctionType.RELU_N1_TO_1),
         Pool2DOptions(padding="VALID", stride_w=2, stride_h=3, filter_w=4, filter_h=5, activation="RELU_N1_TO_1")),
        ("RESHAPE", fb.BuiltinOptions.ReshapeOptions, _options(fb.ReshapeOptionsT, newShape=[1, -1, 48]),
         ReshapeOptions(new_shape=(1, -1, 48))),
        ("CONCATENATION", fb.BuiltinOptions.ConcatenationOptions,
         _options(fb.ConcatenationOptionsT, axis=-1, fusedActivationFunction=fb.ActivationFunctionType.TANH),
         ConcatenationOptions(axis=-1, activation="TANH")),
        ("MEAN", fb.BuiltinOptions.ReducerOptions, _options(fb.ReducerOptionsT, keepDims=True), ReducerOptions(keep_dims=True)),
        ("MUL", fb.BuiltinOptions.MulOptions,
         _options(fb.MulOptionsT, fusedActivationFunction=fb.ActivationFunctionType.RELU6),
         ElementwiseOptions(activation="RELU6")),
        ("DEPTHWISE_CONV_2D", fb.BuiltinOptions.DepthwiseConv2DOptions,
         _options(fb.DepthwiseConv2DOptionsT, padding=fb.Padding.SAME, strideW=1, strideH=2, depthMultiplier=4,
                  dilationWFactor=2, dilationHFactor=3),
         DepthwiseConv2DOptions(padding="SAME", stride_w=1, stride_h=2, depth_multiplier=4, activation="NONE",
                                dilation_w=2, dilation_h=3)),
        ("GELU", fb.BuiltinOptions.GeluOptions, _options(fb.GeluOptionsT, approximate=True),
         OtherOptions("GeluOptions", (("approximate", True),))),
        ("RESHAPE", fb.BuiltinOptions.ReshapeOptions, _options(fb.ReshapeOptionsT, newShape=[]), ReshapeOptions(None)),
        ("ABS", fb.BuiltinOptions.NONE, None, NoOptions()),
    ]
    model = tiny_float_model()
    model.operatorCodes = [make_opcode(getattr(fb.BuiltinOperator, opcode)) for opcode, *_ in cases]
    inputs = {"MEAN": [0, 2], "DEPTHWISE_CONV_2D": [0, 1], "MUL": [0, 0]}  # well-formed ops (ir.validate checks)
    model.subgraphs[0].operators = [make_operator(i, inputs.get(opcode, [0]), [3], options_type, options)
                                    for i, (opcode, options_type, options, _) in enumerate(cases)]
    graph = read_tflite_bytes(pack(model), "m")
    assert [(op.opcode, op.options) for op in graph.ops] == [(opcode, expected) for opcode, _, _, expected in cases]


def test_variable_tensor_and_missing_quantization_fields():
    model = tiny_float_model()
    model.subgraphs[0].tensors[3].isVariable = True
    quantization = fb.QuantizationParametersT()
    quantization.scale, quantization.zeroPoint = [0.5, 0.25], None  # zero points may be omitted: they default to 0
    model.subgraphs[0].tensors[5].quantization = quantization
    graph = read_tflite_bytes(pack(model), "m")
    assert graph.tensor(3).is_variable and not graph.tensor(0).is_variable
    assert graph.tensor(5).quantization.scale == (0.5, 0.25)
    assert graph.tensor(5).quantization.zero_point == (0, 0)


def test_buffer_stored_after_the_flatbuffer():
    """>2 GB layout: Buffer.offset/size point past the flatbuffer, counted from the start of the file."""
    model = tiny_float_model()
    weights = model.buffers[3].data.tobytes()
    model.buffers[3] = fb.BufferT()
    model.buffers[3].offset, model.buffers[3].size = 1 << 20, len(weights)  # placeholder, fixed below
    flatbuffer_size = len(pack(model))  # offset values do not change the size (fixed-width fields)
    model.buffers[3].offset = flatbuffer_size
    content = pack(model, extra=weights)
    graph = read_tflite_bytes(content, "m")
    assert graph.tensor(4).data == weights
    assert_matches_interpreter(graph, content)
    with pytest.raises(BadInputError, match="buffer 3 .* past the end"):
        read_tflite_bytes(content[:-8], "m")


def test_import_stays_light():
    """`sapool plan` imports the reader: it must not pull in torch, TensorFlow or LiteRT."""
    code = "import sys, sapool.ir.read, sapool.ir.analysis; print(sorted(m for m in ('torch', 'tensorflow', " \
           "'ai_edge_litert') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_float_model_from_litert_torch(tmp_path):
    """A float32 model as the real converter writes it (~6 s, mostly importing torch)."""
    torch = pytest.importorskip("torch")
    litert_torch = pytest.importorskip("litert_torch")

    class TinyNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.depthwise = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            y = self.depthwise(torch.relu(self.conv(x)))
            return self.fc(torch.nn.functional.avg_pool2d(y, 2).mean((2, 3)))

    path = tmp_path / "tiny_net.tflite"
    litert_torch.convert(TinyNet().eval(), (torch.zeros(1, 3, 16, 16),)).export(str(path))
    graph = read_tflite(path)
    assert_matches_interpreter(graph, path.read_bytes())
    counted = [op.opcode for op in graph.ops if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert counted == ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"]
    assert graph.tensor(graph.inputs[0]).dtype == "float32"
    # 16×16×8 outputs × 3·3·3, then × 3·3, then 4 outputs × 8 inputs
    assert model_macs(graph) == 16 * 16 * 8 * 27 + 16 * 16 * 8 * 9 + 4 * 8


@pytest.mark.parametrize("tensor_type, dtype, nbytes", [
    (fb.TensorType.UINT32, "uint32", 4 * 4 * 2 * 4), (fb.TensorType.INT4, "int4", 4 * 4 * 2 // 2),
    (fb.TensorType.BFLOAT16, "bfloat16", 4 * 4 * 2 * 2), (fb.TensorType.COMPLEX128, "complex128", 4 * 4 * 2 * 16),
    (fb.TensorType.UINT16, "uint16", 4 * 4 * 2 * 2), (fb.TensorType.UINT64, "uint64", 4 * 4 * 2 * 8),
])
def test_every_fixed_size_tflite_dtype_is_read_and_planned_by_its_size(tensor_type, dtype, nbytes):
    from sapool.memory import compute_lifetimes

    model = tiny_float_model()
    model.subgraphs[0].tensors[0].type = tensor_type  # the model input: an activation, no buffer to match
    graph = read_tflite_bytes(pack(model), "m")
    assert graph.tensor(0).dtype == dtype and graph.tensor(0).nbytes == nbytes
    assert next(b for b in compute_lifetimes(graph) if 0 in b.tensors).size == nbytes
