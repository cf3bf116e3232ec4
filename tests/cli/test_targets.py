"""`sapool targets`: the table, one target's details, JSON output and the unknown-name error."""

import json

from click.testing import CliRunner

from sapool.cli import main
from sapool.targets import load_targets


def run(*args):
    return CliRunner().invoke(main, ["targets", *args], env={"COLUMNS": "120"})


def test_table_lists_every_target_with_its_data_sram():
    result = run()
    assert result.exit_code == 0, result.output
    for name in load_targets():
        assert name in result.output
    h7_row = next(line for line in result.output.splitlines() if "stm32h7" in line)
    assert "STM32H743" in h7_row and "480" in h7_row and "992 KiB" in h7_row and "DTCM 128K" in h7_row


def test_details_show_each_region_base_in_hex_and_its_size():
    result = run("stm32h7")
    assert result.exit_code == 0, result.output
    axi_row = next(line for line in result.output.splitlines() if " AXI " in line)
    assert "0x24000000" in axi_row and "512 KiB" in axi_row and "524,288" in axi_row
    itcm_row = next(line for line in result.output.splitlines() if "ITCM" in line)
    assert "code" in itcm_row
    assert "qemu-system-arm -M mps2-an500" in result.output


def test_json_list_has_schema_version_and_every_target():
    result = run("--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["schema_version"] == 1
    assert [t["name"] for t in payload["targets"]] == list(load_targets())


def test_json_details_carry_regions_in_bytes():
    payload = json.loads(run("stm32f4", "--json").output)
    assert payload["schema_version"] == 1
    target = payload["target"]
    assert target["flash"] == {"base": 0x0800_0000, "size_bytes": 512 * 1024}
    assert target["regions"] == [
        {"name": "SRAM1", "base": 0x2000_0000, "size_bytes": 112 * 1024, "kind": "data"},
        {"name": "SRAM2", "base": 0x2001_C000, "size_bytes": 16 * 1024, "kind": "data"},
    ]
    assert target["data_sram_bytes"] == 128 * 1024


def test_unknown_target_is_one_error_line_with_exit_code_2():
    result = CliRunner().invoke(main, ["targets", "stm32h8"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: unknown target 'stm32h8'; did you mean: stm32h7?"


def test_help_explains_the_command():
    result = run("--help")
    assert result.exit_code == 0
    assert "fastest first" in result.output and "--json" in result.output


def test_details_name_the_board_image_console_and_flash_tools():
    result = run("stm32f4")
    assert result.exit_code == 0, result.output
    assert "USART2, PA2 TX / PA3 RX" in result.output
    assert "pyocd --target stm32f446retx" in result.output and "st-flash" in result.output
    assert "QEMU harness image" in run("qemu-m7").output
