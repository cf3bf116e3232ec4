"""Where users are: the portable kernels on Armv6-M (Cortex-M0/M0+: no DSP, no FPU, no hardware divide, no
unaligned access) and Armv8-M baseline (Cortex-M23), the arm kernels on the Armv8-M mainline Cortex-M33.

Every portable kernel compiles warning-free for cortex-m0plus and cortex-m23 (the arm twins need the DSP extension
and are never built there); single-op models run bit-exact with TFLite's reference kernels on QEMU's Cortex-M0
(microbit, which faults on an unaligned access) and, with the arm kernels, on its Cortex-M33 (mps2-an505), where
a shared model runs too."""

from __future__ import annotations

import math
import shutil
import subprocess
from importlib import resources

import pytest

from sapool.firmware.emulate import emulate
from sapool.kernels import kernels_for_core
from tests.backends.c.single_op_models import build_model, seeded_models
from tests.conftest import shared_model
from tests.firmware.fixture_models import require_firmware_tools

SMALL_CORE_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "ADD", "SOFTMAX", "MEAN")
# odd channel counts and byte-offset rows: the accesses an Armv6-M core faults on if a kernel reads words unaligned
ODD_SHAPES = [
    ("CONV_2D", dict(input=(5, 3, 7), kernel=(1, 1), stride=(1, 1), padding="SAME", out_channels=5)),
    ("CONV_2D", dict(input=(11, 10, 3), kernel=(3, 3), stride=(2, 2), padding="SAME", out_channels=8)),
    ("DEPTHWISE_CONV_2D", dict(input=(6, 5, 6), kernel=(3, 3), stride=(1, 1), padding="SAME", multiplier=1)),
]


def small(model) -> bool:
    """A model whose input and output have a batch of 1 and whose int8 tensors stay far below the micro:bit's 16K."""
    shapes = (*model.input_shapes, model.output_shape)
    sizes = [math.prod(shape) for shape in shapes]
    return all(len(shape) >= 2 and shape[0] == 1 for shape in shapes) and max(sizes) <= 2048


V6M_MODELS = [next(m for m in seeded_models(opcode, 24) if small(m)) for opcode in SMALL_CORE_OPS]
V6M_MODELS += [build_model(opcode, 100 + seed, **shape) for seed, (opcode, shape) in enumerate(ODD_SHAPES)]


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m23"])
def test_every_portable_kernel_compiles_without_warnings_for_small_cores(cpu, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (make setup installs it)")
    kernels = resources.files("sapool.kernels")
    include = kernels.joinpath("include")
    sources = sorted(path for path in kernels.joinpath("reference").iterdir() if path.name.endswith(".c"))
    assert len(sources) > 10
    for source in sources:
        result = subprocess.run(
            ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=soft", "-std=c99", "-O3", "-Wall",
             "-Wextra", "-Werror", f"-I{include}", "-c", str(source), "-o", str(tmp_path / f"{source.name}.o")],
            capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{source.name} for {cpu}:\n{result.stderr}"
    assert kernels_for_core(cpu) == "reference"


@pytest.mark.emu
@pytest.mark.parametrize("model", V6M_MODELS, ids=lambda model: model.label)
def test_portable_kernels_are_bit_exact_on_a_cortex_m0(model, tmp_path):
    require_firmware_tools()
    path = tmp_path / "model.tflite"
    path.write_bytes(model.content)
    report = emulate(path, "qemu-m0", tmp_path, input_count=2)
    assert report.qemu_machine == "microbit" and report.kernels == "reference"
    assert report.bit_exact, f"{report.mismatches} of {report.inputs} inputs differ by up to {report.max_lsb_diff}"


@pytest.mark.emu
@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_arm_kernels_are_bit_exact_on_a_cortex_m33(opcode, tmp_path):
    require_firmware_tools()
    model = next(m for m in seeded_models(opcode, 24) if small(m))
    path = tmp_path / "model.tflite"
    path.write_bytes(model.content)
    report = emulate(path, "qemu-m33", tmp_path, input_count=2)
    assert report.qemu_machine == "mps2-an505" and report.kernels == "arm"
    assert report.bit_exact, f"{report.mismatches} of {report.inputs} inputs differ by up to {report.max_lsb_diff}"


@pytest.mark.emu
def test_a_shared_model_runs_bit_exact_for_the_stm32u5_on_the_cortex_m33(tmp_path):
    require_firmware_tools()
    report = emulate(shared_model("kws_ref_model"), "stm32u5", tmp_path, input_count=3)
    assert (report.target, report.qemu_machine, report.kernels) == ("stm32u5", "mps2-an505", "arm")
    assert report.bit_exact
