"""Latency end to end: the counted-loop fixture (100,000 x `subs; bne`) traced in QEMU and costed for a real
target's core: its cycles follow from the TRM timings by hand."""

from __future__ import annotations

import pytest

from sapool.firmware.latency import measure_latency
from sapool.targets import get_target
from tests.firmware.fixture_models import COUNTED_LOOP_INSTRUCTIONS, require_firmware_tools, write_fixture_project


@pytest.mark.parametrize("name, per_iteration", [
    ("stm32l4", 4),  # Cortex-M4: subs 1 + bne 1 + 2 for the taken branch's refill
    ("stm32f4", 4),  # the same core, traced on the emulated STM32F405 (netduinoplus2) in the board image
    ("stm32h7", 2),  # Cortex-M7: subs 1 + bne 1 (a branch does not dual-issue), predicted taken after the first
])
def test_the_counted_loop_costs_what_the_trm_timings_say(tmp_path, name, per_iteration):
    require_firmware_tools()
    target = get_target(name)
    project = write_fixture_project(tmp_path / "project", target, fixture="counted_loop", arena_bytes=16)
    latency = measure_latency(project, target, target.data_regions, bytes(16), 1, tmp_path / "run")
    iterations = COUNTED_LOOP_INSTRUCTIONS // 2
    assert latency.core == target.core and latency.clock_hz == target.clock_hz
    assert latency.layer_classes[0]["branch"] == pytest.approx(iterations, abs=20)
    assert latency.cycles == pytest.approx(per_iteration * iterations, abs=100)  # the hooks' and memcpy's few
    assert latency.ms == pytest.approx(latency.cycles / target.clock_hz * 1000)
    assert not (tmp_path / "run" / "trace.log").exists()  # the log is read, then deleted
