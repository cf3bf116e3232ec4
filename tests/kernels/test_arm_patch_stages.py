"""Patch stages on the ACLE SIMD kernels in QEMU (Cortex-M7), bit for bit against TFLite's reference kernels.

The random 2-4 op chains of tests/backends/c/stage_models.py (and a few ending in several terminal ops, one
stage output each), each forced into one patch stage (as the host test
does for the portable kernels), planned for qemu-m7, written as a project and emulated with the arm kernels:
every patch calls the arm conv/depthwise twins on a patch buffer with its own geometry and border padding.
Grouped convolutions have no arm twin and are left to the host test."""

from __future__ import annotations

import pytest

from sapool.backends.c import scratch_needs
from sapool.firmware.emulate import emulate
from sapool.firmware.from_model import project_for_layout
from sapool.firmware.project import write_project
from sapool.ir.read import read_tflite_bytes
from sapool.memory.analyze import regions_for
from sapool.memory.layout import plan_layout
from sapool.passes.patches import rewrite
from sapool.targets import get_target
from tests.backends.c.stage_models import build_stage_model, build_terminal_stage_model
from tests.firmware.fixture_models import require_firmware_tools

MODELS = [model for model in map(build_stage_model, range(60)) if "groups=2" not in model.label][:10]
MODELS += [model for model in map(build_terminal_stage_model, range(30)) if "groups=2" not in model.label][:4]


@pytest.mark.emu
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.label)
def test_patch_stages_on_the_arm_kernels_are_bit_exact(model, tmp_path):
    require_firmware_tools()
    graph = read_tflite_bytes(model.content, "stage")
    last = len(graph.ops) - 1
    staged = next(s for size in (3, 2, 1) if (s := rewrite(graph, 0, last, (size, size))) is not None)
    target = get_target("qemu-m7")
    layout = plan_layout(staged, regions_for(target, None), scratch=scratch_needs(staged))
    project = project_for_layout(layout, target, model_name="stage.tflite", model_bytes=model.content)
    write_project(tmp_path / "project", project.files)
    report = emulate(tmp_path / "project", "qemu-m7", tmp_path / "work", input_count=3, kernels="arm")
    assert report.kernels == "arm" and [layer.op for layer in report.layers] == ["CUSTOM:SAPOOL_PATCH_STAGE"]
    assert report.bit_exact, f"{report.mismatches} of {report.inputs} inputs differ by up to {report.max_lsb_diff}"
