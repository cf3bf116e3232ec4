"""The four MLPerf Tiny models as firmware on qemu-m7 (sapool.firmware.emulate, the whole `sapool emulate` path),
with the optimised kernels (kernels/arm/, the default on the M7): bit-exact with TFLite's reference kernels on
>= 10 inputs, the arena in the ELF exactly the planned one, measured RAM within 2 % of the prediction, and
a RAM budget one alignment unit short of the plan fails to link.
Each model is generated, built and run once per session."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sapool.errors import BuildError, DoesNotFitError
from sapool.firmware.emulate import emulate
from sapool.firmware.emulation import build_for_emulation
from sapool.targets import budget_region, get_target
from tests.conftest import MODEL_NAMES, shared_model
from tests.firmware.fixture_models import require_firmware_tools

pytestmark = [pytest.mark.emu, pytest.mark.slow]
ALIGNMENT = 16  # the planner's default; the plan is a multiple of it
# The report's prediction is the planned arena + static data + the worst-case stack from the compiler's call graph
# (firmware.stack_bound); the measured RAM (ELF arena + static + painted-stack high-water mark) must be within 2 %.
RAM_TOLERANCE = 0.02


@pytest.fixture(scope="session", params=MODEL_NAMES)
def emulated(request, tmp_path_factory):
    require_firmware_tools()
    model = shared_model(request.param)
    work_dir = tmp_path_factory.mktemp(f"emulate-{request.param}")
    return request.param, work_dir, emulate(model, "qemu-m7", work_dir, input_count=10)


def test_outputs_are_bit_exact_with_tflite_reference_kernels(emulated):
    name, _, report = emulated
    assert report.inputs >= 10 and report.kernels == "arm"  # the ACLE SIMD kernels, qemu-m7's default
    assert report.bit_exact, f"{name}: {report.mismatches} of {report.inputs} differ by up to {report.max_lsb_diff}"


def test_measured_ram_matches_the_plan(emulated):
    name, _, report = emulated
    ram = report.ram
    assert ram.arena_bytes == ram.planned_bytes
    assert ram.measured_bytes == ram.arena_bytes + ram.static_bytes + ram.stack_bytes
    assert 0 < ram.stack_bytes < ram.stack_high_water_bytes < ram.stack_reserved_bytes
    assert ram.predicted_bytes == ram.planned_bytes + ram.static_bytes + ram.stack_bound_bytes
    # the prediction's stack part is the compiler's call-graph bound: never below what the painted stack shows,
    # and over it by at most 2 % or, on a tiny model (ad01: 1.2 kB in all), 64 B of frames never all live at once
    over = ram.predicted_bytes - ram.measured_bytes
    assert 0 <= over <= max(RAM_TOLERANCE * ram.predicted_bytes, 64), name


def test_every_op_is_a_profiled_layer(emulated):
    _, _, report = emulated
    assert report.macs > 0 and report.instructions_total > report.macs
    assert sum(layer.instructions for layer in report.layers) <= report.instructions_total
    assert [layer.index for layer in report.layers] == list(range(len(report.layers)))


def test_a_region_one_alignment_unit_short_fails_to_link(emulated):
    _, work_dir, report = emulated
    target = get_target("qemu-m7")
    (region,) = target.data_regions
    short = replace(region, size=report.ram.planned_bytes - ALIGNMENT)
    with pytest.raises(DoesNotFitError, match=rf"region {region.name} overflowed by {ALIGNMENT} bytes"):
        build_for_emulation(work_dir / "project", target, (short,), work_dir / "short")


def test_a_project_linked_for_other_regions_is_refused(emulated):
    _, work_dir, report = emulated
    budget = budget_region(report.ram.planned_bytes)
    with pytest.raises(BuildError, match="planned for other RAM regions"):
        build_for_emulation(work_dir / "project", get_target("qemu-m7"), (budget,), work_dir / "other")
