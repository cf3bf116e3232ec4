"""The ACLE SIMD kernels (sapool/kernels/arm/) in QEMU on Cortex-M7, bit for bit against TFLite's reference kernels
on the random single-op models of tests/backends/c/single_op_models.py: odd channel counts (the vector tails),
SAME/VALID padding (the border paths), strides, dilation and depth multipliers (the one-channel fallbacks), plus
pinned shapes for the specialised paths the random draws rarely reach (SHAPED).
The four shared models run on the same kernels in tests/firmware/test_mlperf.py."""

from __future__ import annotations

import pytest

from sapool.firmware.emulate import emulate
from sapool.kernels import arm_twin, kernels_for_core
from tests.backends.c.single_op_models import build_model, seeded_models
from tests.firmware.fixture_models import require_firmware_tools

MODELS_PER_OP = 6
OPTIMISED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
                 "MAX_POOL_2D")


def emulatable(model) -> bool:
    """sapool emulate runs models whose inputs and output have a batch of 1 (any number of inputs); a grouped
    CONV_2D has no arm twin (reference/grouped_conv.c, covered on the host), so it is left to those tests."""
    shapes = (*model.input_shapes, model.output_shape)
    return all(len(shape) >= 2 and shape[0] == 1 for shape in shapes) and "groups=" not in model.label.replace(
        "groups=1", "")


MODELS = [model for opcode in OPTIMISED_OPS
          for model in [m for m in seeded_models(opcode, 12 * MODELS_PER_OP) if emulatable(m)][:MODELS_PER_OP]]
# Shapes the random draws rarely reach, each pinned to a specialised path of kernels/arm/ (weights and quantisation
# still drawn from the seed).
SHAPED = [
    # depthwise 3x3, channel groups of four: interior runs (lean: fast requantisation, int8 clamp) and the
    # gathered border pixels of SAME padding
    ("DEPTHWISE_CONV_2D", dict(input=(7, 9, 8), kernel=(3, 3), stride=(1, 1), padding="SAME", multiplier=1)),
    # ... with a fused RELU6 (the clamp cuts into int8: the general output stage), stride 2, VALID
    ("DEPTHWISE_CONV_2D", dict(input=(9, 8, 4), kernel=(3, 3), stride=(2, 2), padding="VALID", multiplier=1,
                               activation="RELU6")),
    # ... RELU6 with SAME padding: border pixels through the general output stage
    ("DEPTHWISE_CONV_2D", dict(input=(5, 6, 8), kernel=(3, 3), stride=(1, 1), padding="SAME", multiplier=1,
                               activation="RELU6")),
    # ... stride 2 and dilation 2 with SAME padding, three groups
    ("DEPTHWISE_CONV_2D", dict(input=(8, 9, 12), kernel=(3, 3), stride=(2, 2), padding="SAME", multiplier=1,
                               dilation=(2, 2))),
    # ... channels past the last group of four (the one-channel tail)
    ("DEPTHWISE_CONV_2D", dict(input=(6, 5, 6), kernel=(3, 3), stride=(1, 1), padding="SAME", multiplier=1)),
    # pointwise: whole words (one ldrd per step, four words per pass), seven words (one, two, four), unaligned pairs with
    # byte tails, an odd pixel count and an odd last output channel
    ("CONV_2D", dict(input=(4, 6, 16), kernel=(1, 1), stride=(1, 1), padding="VALID", out_channels=6)),
    ("CONV_2D", dict(input=(3, 5, 28), kernel=(1, 1), stride=(1, 1), padding="VALID", out_channels=7)),
    ("CONV_2D", dict(input=(5, 3, 7), kernel=(1, 1), stride=(1, 1), padding="SAME", out_channels=5)),
    # ... eight input channels held in registers across the output channels (lean stage only)
    ("CONV_2D", dict(input=(3, 5, 8), kernel=(1, 1), stride=(1, 1), padding="VALID", out_channels=7)),
    # first layers: few input channels, runs shorter than four words
    ("CONV_2D", dict(input=(11, 10, 3), kernel=(3, 3), stride=(2, 2), padding="SAME", out_channels=8)),
    ("CONV_2D", dict(input=(13, 6, 1), kernel=(10, 4), stride=(2, 2), padding="SAME", out_channels=5)),
    # ADD and SUB of two same-shape operands: the unswitched fast run, with the int8 clamp and with RELU's
    ("ADD", dict(lhs=(1, 4, 5, 6), rhs=(1, 4, 5, 6))),
    ("SUB", dict(lhs=(1, 3, 7, 2), rhs=(1, 3, 7, 2), activation="RELU")),
    # pools, four channels per word: windows clipped at SAME borders, and a global pool of more than 256 taps
    # (16-bit sums could overflow: the one-channel loop)
    ("AVERAGE_POOL_2D", dict(input=(7, 6, 9), filter=(3, 3), stride=(2, 2), padding="SAME", activation="RELU")),
    ("AVERAGE_POOL_2D", dict(input=(17, 16, 4), filter=(17, 16), stride=(1, 1), padding="VALID")),
    ("MAX_POOL_2D", dict(input=(7, 6, 9), filter=(3, 3), stride=(2, 2), padding="SAME", activation="RELU6")),
    # a wider window read in place (runs of four words and more), stride 1, SAME
    ("CONV_2D", dict(input=(6, 7, 16), kernel=(3, 3), stride=(1, 1), padding="SAME", out_channels=4)),
]
MODELS += [build_model(opcode, seed, **shape) for seed, (opcode, shape) in enumerate(SHAPED)]


@pytest.mark.emu
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.label)
def test_arm_kernels_are_bit_exact_with_tflite_reference_kernels(model, tmp_path):
    require_firmware_tools()
    path = tmp_path / "model.tflite"
    path.write_bytes(model.content)
    report = emulate(path, "qemu-m7", tmp_path, input_count=3, kernels="arm")
    assert report.kernels == "arm"
    assert report.bit_exact, f"{report.mismatches} of {report.inputs} inputs differ by up to {report.max_lsb_diff}"


def test_arm_twins_exist_for_the_optimised_families_only():
    assert arm_twin("reference/conv.c") == "arm/conv.c"
    assert arm_twin("reference/depthwise_conv.c") == "arm/depthwise_conv.c"
    assert arm_twin("reference/fully_connected.c") == "arm/fully_connected.c"
    assert arm_twin("reference/elementwise.c") == "arm/elementwise.c"
    assert arm_twin("reference/pool.c") == "arm/pool.c"
    assert arm_twin("reference/softmax.c") is None
    assert arm_twin("include/sapool_quant.h") is None


def test_cores_with_the_dsp_extension_default_to_the_arm_kernels():
    assert [kernels_for_core(core) for core in ("cortex-m4", "Cortex-M7", "cortex-m55")] == ["arm"] * 3
    assert [kernels_for_core(core) for core in ("cortex-m0plus", "cortex-m3")] == ["reference"] * 2
