"""Board folders: their data, the compiler flags from board.toml, and the error for a target without one."""

from dataclasses import replace

import pytest

from sapool.errors import BadInputError
from sapool.firmware.boards import COMMON_DIR, cpu_flags, load_board
from sapool.targets import get_target


def test_m7_boards_add_the_cache_setup_and_others_nothing():
    assert [source.name for source in load_board("stm32h7").sources] == ["m7_caches.c"]
    assert load_board("stm32f4").sources == ()
    assert load_board("stm32h7").irq_count == 150 and load_board("nrf52840").irq_count == 48
    assert (COMMON_DIR / "harness.c") in load_board("qemu-m55").firmware_files


def test_real_boards_build_their_standalone_image_and_qemu_mps_boards_the_harness():
    for name in ("stm32h7", "stm32f7", "stm32f4", "stm32l4", "nrf52840", "stm32u5", "stm32g0", "netduinoplus2"):
        board = load_board(name)
        assert board.default_image == "board", name
        assert "board_main.c" in board.image_sources("board") and "harness.c" not in board.image_sources("board")
    assert [p.name for p in load_board("netduinoplus2").board_sources] == ["board_stm32f4.c", "stm32_usart.h"]
    for name in ("qemu-m7", "qemu-m4", "qemu-m55", "qemu-m33", "qemu-m0"):
        assert load_board(name).default_image == "harness" and load_board(name).board_sources == ()
    assert "console_uart.c" not in [p.name for p in load_board("qemu-m7").firmware_files]


@pytest.mark.parametrize("name, flags", [
    ("stm32h7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard"),
    ("stm32f7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard"),
    ("nrf52840", "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"),
    ("qemu-m55", "-mcpu=cortex-m55 -mthumb -mfpu=auto -mfloat-abi=hard"),
])
def test_cpu_flags_follow_core_and_fpu(name, flags):
    assert cpu_flags(get_target(name)) == flags


def test_a_core_without_fpu_uses_the_soft_float_abi():
    cortex_m3 = replace(get_target("stm32f4"), core="cortex-m3", fpu="none")
    assert cpu_flags(cortex_m3) == "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft"


def test_a_target_without_a_board_folder_is_named_with_the_boards_that_exist():
    with pytest.raises(BadInputError, match=r"no firmware for target 'mychip'.*stm32h7.*adding_a_board"):
        load_board("mychip")


@pytest.mark.parametrize("text, message", [
    ("irq_count = 32\n", "'stack_bytes' must be a positive integer, got None"),
    ("irq_count = 32\nstack_bytes = 0\n", "'stack_bytes' must be a positive integer, got 0"),
    ("irq_count = 32\nstack_bytes = 4096\nsources = \"a.c\"\n", "'sources' must be a list of C file names"),
    ("irq_count = 32\nstack_bytes = 4096\nsources = [\"missing.c\"]\n", "source 'missing.c' is neither in"),
    ("irq_count = 32\nstack_bytes = 4096\nclock = 1\n", "unknown key 'clock'"),
])
def test_board_data_is_checked_naming_the_file(tmp_path, monkeypatch, text, message):
    import sapool.firmware.boards as boards

    (tmp_path / "_common").mkdir()
    (tmp_path / "myboard").mkdir()
    (tmp_path / "myboard" / "board.toml").write_text("[firmware]\n" + text)
    monkeypatch.setattr(boards, "BOARDS_DIR", tmp_path)
    monkeypatch.setattr(boards, "COMMON_DIR", tmp_path / "_common")
    with pytest.raises(BadInputError, match=r"board.toml: \[firmware\]: .*" + message.replace("(", r"\(").replace("[", r"\[")):
        load_board("myboard")


@pytest.mark.parametrize("table, message", [
    ('pyocd_target = "x"\n', "missing openocd"),
    ('pyocd_target = "x"\nopenocd = "-f a.cfg"\nst_flash = "yes"\n', "wrong type: st_flash"),
    ('pyocd_target = "x"\nopenocd = "-f a.cfg"\nprobe = "jlink"\n', "unknown probe"),
])
def test_the_flash_table_is_checked_naming_the_file(tmp_path, monkeypatch, table, message):
    import sapool.firmware.boards as boards

    (tmp_path / "_common").mkdir()
    (tmp_path / "myboard").mkdir()
    (tmp_path / "myboard" / "board.toml").write_text(
        "[firmware]\nirq_count = 32\nstack_bytes = 4096\n\n[firmware.flash]\n" + table)
    monkeypatch.setattr(boards, "BOARDS_DIR", tmp_path)
    monkeypatch.setattr(boards, "COMMON_DIR", tmp_path / "_common")
    with pytest.raises(BadInputError, match=r"board.toml: \[firmware.flash\]: " + message):
        load_board("myboard")
