"""A plan split over two RAM regions links each arena into its own region and still runs bit-exact.

kws needs 16,000 B of activations; on an STM32F4 whose SRAM1 and SRAM2 were only 8 and 12 KiB the planner must
split the buffers over both, so the firmware has two arena sections, each checked against its region's size."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sapool.backends.c import scratch_needs
from sapool.firmware.emulation import emulate_project
from sapool.firmware.from_model import project_for_layout
from sapool.firmware.project import write_project
from sapool.ir.read import read_tflite
from sapool.memory.layout import plan_layout
from sapool.targets import Region, get_target
from sapool.verify.interpreters import run_model
from tests.conftest import shared_model
from tests.firmware.fixture_models import require_firmware_tools

pytestmark = pytest.mark.emu


def test_kws_split_over_two_regions_runs_bit_exact(tmp_path):
    require_firmware_tools()
    model = shared_model("kws_ref_model")
    small_sram1 = (Region("SRAM1", 0x2000_0000, 8 * 1024), Region("SRAM2", 0x2001_C000, 12 * 1024))
    # on the harness board (mps2-an386), where the firmware's own stack sits apart from the two small regions
    target = replace(get_target("stm32f4"), regions=small_sram1, qemu_machine="mps2-an386")
    graph = read_tflite(model)
    layout = plan_layout(graph, target.data_regions, scratch=scratch_needs(graph))
    assert layout.fits and all(region.used_bytes > 0 for region in layout.regions)
    project = project_for_layout(layout, target, model_name=model.name, model_bytes=model.read_bytes())
    write_project(tmp_path / "project", project.files)
    inputs = np.random.default_rng(11).integers(-128, 128, size=(3, 490), dtype=np.int8)
    result = emulate_project(tmp_path / "project", target, target.data_regions, [row.tobytes() for row in inputs],
                             tmp_path / "work")
    assert result.sizes.arena_bytes == {region.name: region.used_bytes for region in layout.regions}
    expected = run_model(model, inputs.reshape(3, 49, 10, 1)).outputs.reshape(3, -1)
    assert np.array_equal(np.stack([np.frombuffer(o, np.int8) for o in result.run.outputs]), expected)
