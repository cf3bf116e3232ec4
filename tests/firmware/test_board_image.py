"""The standalone board image (sapool/boards/_common/board_main.c + the board's clock and UART files): every real
board builds it by default; the stm32f4 image runs unchanged on QEMU's netduinoplus2 (an STM32F405: same USART IP
at the same address, no clock controller), falls back to HSI and says so, and two shared models come out bit-exact
with TFLite's reference kernels through `sapool emulate --target stm32f4`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.board_image import samples_source
from sapool.firmware.board_run import parse_board_console
from sapool.firmware.emulation import emulate_project
from sapool.targets import get_target
from tests.conftest import shared_model
from tests.firmware.fixture_models import expected_output, require_firmware_tools, write_fixture_project

CONSOLE = """
sapool-board 1 2 2
clock 16000000 HSI 16 MHz (fell back: PLLRDY never set, no RCC model?)
dwt 0
input 0 168 0
output 0 0008000a
input 1 336 0
output 1 ff00017f
layer 0 336 128 FULLY_CONNECTED
layer 1 84 0 MAX_POOL_2D
stack 264 8192 184
done
"""


def test_the_console_records_become_outputs_instructions_and_stack():
    run = parse_board_console(CONSOLE, 168_000_000, 2)
    assert run.outputs == (bytes.fromhex("0008000a"), bytes.fromhex("ff00017f"))
    assert run.instructions_per_input == (1000, 2000)  # SysTick at 168 MHz, one instruction per ns
    assert [(layer.name, layer.macs, layer.instructions) for layer in run.layers] == [
        ("FULLY_CONNECTED", 128, 2000), ("MAX_POOL_2D", 0, 500)]
    assert (run.stack_high_water_bytes, run.stack_reserved_bytes, run.model_stack_bytes) == (264, 8192, 80)


def test_a_console_missing_an_input_is_refused():
    with pytest.raises(Exception, match="ran 1 of 2 inputs"):
        parse_board_console(CONSOLE.replace("output 1 ff00017f\n", ""), 168_000_000, 2)


def test_samples_source_holds_every_row_or_one_zero_input():
    text = samples_source([bytes([1, 2, 255]), bytes([0, 128, 7])])
    assert "sapool_sample_count = 2u;" in text and "0x01, 0x02, 0xff," in text and "0x00, 0x80, 0x07," in text
    assert "sapool_sample_count = 1u;" in samples_source([]) and "{0}," in samples_source([])


@pytest.mark.emu
def test_the_stm32f4_image_runs_on_netduinoplus2_falling_back_to_hsi(tmp_path):
    require_firmware_tools()
    target = get_target("stm32f4")
    project = write_fixture_project(tmp_path / "project", target)
    makefile = (project / "Makefile").read_text()
    assert "IMAGE    ?= board" in makefile and "firmware/board_stm32f4.c" in makefile
    inputs = [bytes(range(16)), bytes(range(100, 116))]
    result = emulate_project(project, target, target.data_regions, inputs, tmp_path / "work")
    assert result.board.qemu_machine == "netduinoplus2"
    assert list(result.run.outputs) == [expected_output(data) for data in inputs]
    assert "clock 16000000 HSI 16 MHz (fell back: PLLRDY never set" in result.run.console
    assert "\ndwt 0" in result.run.console  # QEMU does not model DWT CYCCNT


@pytest.fixture(scope="module", params=["ad01_int8", "kws_ref_model"])
def emulated_on_netduino(request):
    require_firmware_tools()
    model = shared_model(request.param)
    result = CliRunner().invoke(main, ["emulate", str(model), "--target", "stm32f4", "--inputs", "3", "--json"])
    return request.param, result


@pytest.mark.emu
def test_shared_models_are_bit_exact_as_board_images_on_netduinoplus2(emulated_on_netduino):
    name, result = emulated_on_netduino
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["qemu_machine"] == "netduinoplus2" and report["target"] == "stm32f4"
    assert report["bit_exact"] is True and report["inputs"] == 3, name
    assert report["kernels"] == "arm"
