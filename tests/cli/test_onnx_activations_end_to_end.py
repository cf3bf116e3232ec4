"""A third-party-style ONNX CNN with the ops that used to stop quantisation (a BatchNormalization no Conv precedes,
LeakyRelu, HardSwish, PRelu, Max, Min) and a grouped Conv: `sapool compile` makes it all-int8, and its firmware,
emulated in QEMU, matches TFLite's reference kernels bit for bit."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.ir.read import read_tflite
from tests.firmware.fixture_models import require_firmware_tools
from tests.frontends.onnx.onnx_graphs import OnnxGraph

pytestmark = pytest.mark.emu


def activations_cnn(path):
    g = OnnxGraph([1, 3, 16, 16])
    x = g.node("BatchNormalization", ["image", g.weight("bn_s", (3,), 1.0, low=0.5), g.weight("bn_b", (3,), 0.2),
                                      g.weight("bn_m", (3,), 0.2), g.weight("bn_v", (3,), 1.0, low=0.5)], "input_bn")
    x = g.node("Conv", [x, g.weight("c1_w", (8, 3, 3, 3)), g.weight("c1_b", (8,), 0.1)], "conv1", pads=[1, 1, 1, 1])
    x = g.node("LeakyRelu", [x], "leaky", alpha=0.1)
    x = g.node("Conv", [x, g.weight("grouped_w", (8, 4, 3, 3), 0.2)], "grouped", group=2, pads=[1, 1, 1, 1])
    a = g.node("Conv", [x, g.weight("a_w", (8, 8, 1, 1))], "conv_a")
    b = g.node("Conv", [x, g.weight("b_w", (8, 8, 1, 1))], "conv_b")
    branches = [g.node("HardSwish", [a], "hardswish"),
                g.node("PRelu", [b, g.weight("slope", (8, 1, 1), 0.3, low=0.05)], "prelu"),
                g.node("Max", [a, b], "max"), g.node("Min", [a, b], "min")]
    x = g.node("Concat", branches, "concat", axis=1)
    x = g.node("Conv", [x, g.weight("c3_w", (8, 32, 3, 3), 0.1)], "conv3", strides=[2, 2], pads=[1, 1, 1, 1])
    x = g.node("GlobalAveragePool", [x], "gap")
    x = g.node("Flatten", [x], "flatten")
    return g.save(path, g.node("Gemm", [x, g.weight("fc_w", (5, 8)), g.weight("fc_b", (5,), 0.1)], "fc", transB=1),
                  [1, 5])


def test_the_onnx_cnn_compiles_all_int8_and_its_firmware_is_bit_exact(tmp_path):
    require_firmware_tools()
    out = tmp_path / "cnn"
    result = CliRunner().invoke(main, ["compile", str(activations_cnn(tmp_path / "activations.onnx")), "-t",
                                       "stm32h7", "-o", str(out), "--calib", "random", "--calib-samples", "16",
                                       "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["model_kind"] == "onnx" and document["int8"]["all_int8"]
    graph = read_tflite(out / "model.tflite")
    ops = {op.opcode for op in graph.ops}
    assert {"LEAKY_RELU", "HARD_SWISH", "MAXIMUM", "MINIMUM", "RELU", "SUB"} <= ops, ops
    grouped = [op for op in graph.ops if op.opcode == "CONV_2D"
               and graph.tensor(op.inputs[1]).shape[-1] < graph.tensor(op.inputs[0]).shape[-1]]
    assert len(grouped) == 1  # the converter keeps the grouped Conv as one grouped CONV_2D
    emulated = CliRunner().invoke(main, ["emulate", str(out), "--inputs", "4", "--format", "json", "-q"])
    assert emulated.exit_code == 0, emulated.output
    assert json.loads(emulated.stdout)["bit_exact"] is True
