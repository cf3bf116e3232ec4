"""The QEMU boards (and a real target emulated on its core's QEMU board) run the fixture models: outputs equal
the numpy oracle bit for bit, instruction counts match a loop of known length, the stack is measured."""

from __future__ import annotations

import numpy as np
import pytest

from sapool.errors import DoesNotFitError
from sapool.firmware.emulation import emulate_project
from sapool.targets import budget_region, get_target
from tests.firmware.fixture_models import (
    COUNTED_LOOP_INSTRUCTIONS,
    expected_output,
    require_firmware_tools,
    write_fixture_project,
)

pytestmark = pytest.mark.emu


def random_inputs(count: int, size: int, seed: int) -> list[bytes]:
    generator = np.random.default_rng(seed)
    return [generator.integers(-128, 128, size, dtype=np.int8).tobytes() for _ in range(count)]


@pytest.mark.parametrize("name", ["qemu-m7", "qemu-m4", "qemu-m55", "qemu-m33", "qemu-m0", "stm32h7", "stm32f4"])
def test_fixture_model_runs_bit_exact(tmp_path, name):
    """stm32f4 runs its standalone board image on netduinoplus2 (UART console, inputs compiled in), the others the
    UART harness on an mps2/mps3 board."""
    require_firmware_tools()
    target = get_target(name)
    project = write_fixture_project(tmp_path / "project", target)
    inputs = random_inputs(5, 16, seed=len(name))
    result = emulate_project(project, target, target.data_regions, inputs, tmp_path / "work")
    assert result.board.emulated and result.board.core == target.core
    assert list(result.run.outputs) == [expected_output(data) for data in inputs]
    assert [(layer.index, layer.name, layer.macs) for layer in result.run.layers] == [
        (0, "FULLY_CONNECTED", 128), (1, "MAX_POOL_2D", 0),
    ]
    dense = result.run.layers[0].instructions / len(inputs)
    assert 128 < dense < 128 * 20  # at least one instruction per MAC, far from a runaway
    assert 0 < result.run.stack_high_water_bytes < result.run.stack_reserved_bytes
    assert 0 < result.run.stack_at_invoke_bytes < result.run.stack_high_water_bytes  # main's frame, then the model's


@pytest.mark.parametrize("name", ["qemu-m7", "qemu-m55", "qemu-m33", "qemu-m0", "netduinoplus2"])
def test_instruction_count_of_a_known_loop(tmp_path, name):
    require_firmware_tools()
    target = get_target(name)
    project = write_fixture_project(tmp_path / "project", target, fixture="counted_loop", arena_bytes=16)
    inputs = random_inputs(2, 16, seed=1)
    result = emulate_project(project, target, target.data_regions, inputs, tmp_path / "work")
    assert list(result.run.outputs) == inputs
    per_input = result.run.layers[0].instructions / len(inputs)
    assert per_input == pytest.approx(COUNTED_LOOP_INSTRUCTIONS, abs=200)  # hook overhead + one tick of rounding


def test_emulated_target_regions_are_capped_at_the_parts_sizes(tmp_path):
    """stm32l4's SRAM1 is 192 KiB; on QEMU (4 MiB of RAM) an arena one KiB too large must still fail to link."""
    require_firmware_tools()
    target = get_target("stm32l4")
    sram1 = target.data_regions[0]
    project = write_fixture_project(tmp_path / "project", target, arena_bytes=sram1.size + 1024)
    with pytest.raises(DoesNotFitError, match=r"region SRAM1 overflowed by 1024 bytes"):
        emulate_project(project, target, target.data_regions, random_inputs(1, 16, 0), tmp_path / "work")


def test_the_board_image_links_on_the_parts_own_map(tmp_path):
    """On netduinoplus2 the stm32f4 image keeps the F446's map: an arena that fills SRAM1 leaves no room for the
    image's own stack there, as on the board (the harness boards would put the stack elsewhere)."""
    require_firmware_tools()
    target = get_target("stm32f4")
    project = write_fixture_project(tmp_path / "project", target, arena_bytes=target.data_regions[0].size)
    with pytest.raises(DoesNotFitError, match=r"region SRAM1 overflowed by (\d+) bytes") as caught:
        emulate_project(project, target, target.data_regions, random_inputs(1, 16, 0), tmp_path / "work")
    assert int(caught.value.args[0].split("overflowed by ")[1].split()[0]) >= 8192  # the stack, at least


def test_a_ram_budget_caps_the_emulated_arena(tmp_path):
    require_firmware_tools()
    target = get_target("qemu-m7")
    project = write_fixture_project(tmp_path / "project", target, (budget_region(32),), arena_bytes=32)
    inputs = random_inputs(1, 16, 3)
    result = emulate_project(project, target, (budget_region(32),), inputs, tmp_path / "work")
    assert result.sizes.arena_bytes == {"budget": 32}
    with pytest.raises(DoesNotFitError, match=r"region budget overflowed by 16 bytes"):
        emulate_project(project, target, (budget_region(16),), inputs, tmp_path / "work2")


def test_a_firmware_that_tries_semihosting_faults_and_reaches_nothing_on_the_host(tmp_path, monkeypatch):
    """A model that calls SYS_SYSTEM ("touch CANARY") and SYS_OPEN: under `sapool emulate` there is no semihosting,
    so the `bkpt 0xab` is a fault (exit 6), and no file appears anywhere."""
    from sapool.errors import BuildError

    require_firmware_tools()
    monkeypatch.chdir(tmp_path)
    target = get_target("qemu-m7")
    project = write_fixture_project(tmp_path / "project", target)
    model_c = project / "model" / "model.c"
    escape = """
static int host_call(int operation, const void *block) {
    register int r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static void escape(void) {
    static const char command[] = "touch CANARY";
    const unsigned block[2] = {(unsigned)command, sizeof command - 1};
    host_call(0x12, block); /* SYS_SYSTEM */
    static const char name[] = "CANARY2";
    const unsigned open_block[3] = {(unsigned)name, 5, sizeof name - 1};
    host_call(0x01, open_block); /* SYS_OPEN for writing */
}
"""
    source = model_c.read_text().replace("int sapool_model_invoke(void) {",
                                         escape + "int sapool_model_invoke(void) {\n    escape();")
    model_c.write_text(source)
    with pytest.raises(BuildError, match="exit 6: processor fault"):
        emulate_project(project, target, target.data_regions, random_inputs(1, 16, seed=1), tmp_path / "work")
    assert not list(tmp_path.rglob("CANARY*"))
