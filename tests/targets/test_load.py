"""The packaged board folders' targets and the loader's checks on hand-written (broken) board.toml files."""

import re
from pathlib import Path

import pytest

from sapool.errors import BadInputError
from sapool.targets import Region, budget_region, get_target, load_targets

DESIGN_TARGETS = ("stm32h7", "stm32f7", "stm32f4", "stm32l4", "nrf52840", "qemu-m7", "qemu-m4", "qemu-m55",
                  "stm32u5", "stm32g0", "qemu-m33", "qemu-m0", "netduinoplus2")

GOOD_TABLE = """
part = "X1"
core = "cortex-m4"
fpu = "fpv4-sp-d16"
clock_hz = 100_000_000
description = "test board"
qemu_machine = "mps2-an386"
flash = { base = 0x0800_0000, size = "256K" }
regions = [
    { name = "FAST", base = 0x2000_0000, size = "32K", kind = "data" },
    { name = "SLOW", base = 0x2000_8000, size = 65536, kind = "data" },
    { name = "ITCM", base = 0x0, size = "16K", kind = "code" },
]
"""


def write_table(tmp_path, text, name="board"):
    """A boards folder holding one board folder `name` whose board.toml is `text`."""
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    (tmp_path / name / "board.toml").write_text(text)
    return tmp_path


def test_packaged_boards_have_every_design_target_real_ones_first_by_clock():
    targets = load_targets()
    assert set(DESIGN_TARGETS) <= set(targets)
    real = [t for t in targets.values() if not t.emulated]
    assert list(targets.values())[:len(real)] == real
    assert [t.clock_hz for t in real] == sorted((t.clock_hz for t in real), reverse=True)
    assert [t.name for t in real] == ["stm32h7", "stm32f7", "stm32f4", "stm32u5", "stm32l4", "nrf52840", "stm32g0"]


def test_stm32h7_memory_map_matches_the_datasheet():
    h7 = get_target("stm32h7")
    assert (h7.part, h7.core, h7.clock_hz) == ("STM32H743", "cortex-m7", 480_000_000)
    assert (h7.flash_base, h7.flash_size) == (0x0800_0000, 2 * 1024 * 1024)
    assert [(r.name, r.base, r.size) for r in h7.data_regions] == [
        ("DTCM", 0x2000_0000, 128 * 1024),
        ("AXI", 0x2400_0000, 512 * 1024),
        ("SRAM1", 0x3000_0000, 128 * 1024),
        ("SRAM2", 0x3002_0000, 128 * 1024),
        ("SRAM3", 0x3004_0000, 32 * 1024),
        ("SRAM4", 0x3800_0000, 64 * 1024),
    ]
    assert "ITCM" not in [r.name for r in h7.data_regions]  # code only
    assert h7.data_sram_bytes == (128 + 512 + 128 + 128 + 32 + 64) * 1024


def test_qemu_boards_name_their_machine_and_memory():
    m7, m55 = get_target("qemu-m7"), get_target("qemu-m55")
    assert (m7.qemu_machine, m7.emulated) == ("mps2-an500", True)
    assert m7.data_regions == (Region("SSRAM23", 0x2000_0000, 4 * 1024 * 1024, "data"),)
    assert (m55.core, m55.qemu_machine) == ("cortex-m55", "mps3-an547")
    assert m55.data_regions[0] == Region("DTCM", 0x2000_0000, 512 * 1024, "data")
    assert get_target("nrf52840").emulated is False


def test_every_real_target_runs_on_a_qemu_board_with_its_core():
    """The same core, or (Cortex-M0+ on QEMU's Cortex-M0) the same instruction set, Armv6-M."""
    same_isa = {"cortex-m0plus": "cortex-m0"}
    machines = {t.qemu_machine: t.core for t in load_targets().values() if t.emulated}
    for target in load_targets().values():
        assert machines[target.qemu_machine] == same_isa.get(target.core, target.core), target.name


def test_unknown_target_suggests_the_close_name():
    with pytest.raises(BadInputError, match=r"^unknown target 'stm32h8'; did you mean: stm32h7\?$"):
        get_target("stm32h8")


def test_unknown_target_without_close_name_lists_all():
    with pytest.raises(BadInputError, match="known targets: stm32h7, stm32f7, .*qemu-m"):
        get_target("esp32")


def test_good_table_parses_sizes_and_kinds(tmp_path):
    board = load_targets(write_table(tmp_path, GOOD_TABLE))["board"]
    assert [(r.name, r.size) for r in board.data_regions] == [("FAST", 32768), ("SLOW", 65536)]
    assert board.emulated is False and board.flash_size == 256 * 1024


def test_load_targets_is_cached_but_returns_a_fresh_dict():
    first = load_targets()
    first.pop("stm32h7")
    assert "stm32h7" in load_targets()
    assert load_targets()["stm32f4"] is get_target("stm32f4")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('{ name = "SLOW", base = 0x2000_8000', '{ name = "SLOW", base = 0x2000_4000'),
         r"target 'board': FAST \[0x20000000, 0x20008000\) overlaps SLOW"),
        (('flash = { base = 0x0800_0000', 'flash = { base = 0x0000_2000'), "ITCM .* overlaps flash"),
        (('part = "X1"\n', ''), "target 'board': missing key 'part'"),
        (('clock_hz = 100_000_000', 'clock_hz = "fast"'), "'clock_hz' must be an integer, got 'fast'"),
        (('clock_hz = 100_000_000', 'clock_hz = true'), "'clock_hz' must be an integer, got True"),
        (('fpu = ', 'fpu_kind = "x"\nfpu = '), "unknown key\\(s\\) fpu_kind"),
        (('kind = "code"', 'kind = "stack"'), r"region #3 \(ITCM\): kind must be one of data, code"),
        (('size = 65536, kind', 'kind'), r"region #2: needs exactly the keys .*\(missing size\)"),
        (('size = "32K"', 'size = "32Q"'), r"region #1 \(FAST\): not a byte size"),
        (('name = "SLOW"', 'name = "FAST"'), "region name\\(s\\) used twice: FAST"),
        (('base = 0x2000_8000, size = 65536', 'base = 0xFFFF_0000, size = "1M"'), "past the 32-bit address space"),
    ],
)
def test_broken_tables_are_refused_naming_the_target(tmp_path, edit, message):
    old, new = edit
    assert old in GOOD_TABLE
    path = write_table(tmp_path, GOOD_TABLE.replace(old, new, 1))
    with pytest.raises(BadInputError, match=message):
        load_targets(path)


def test_a_target_needs_a_data_region(tmp_path):
    path = write_table(tmp_path, GOOD_TABLE.replace('kind = "data"', 'kind = "code"'))
    with pytest.raises(BadInputError, match="target 'board': needs at least one region with kind = \"data\""):
        load_targets(path)


def test_invalid_toml_and_a_folder_without_boards_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="board/board.toml: not valid TOML"):
        load_targets(write_table(tmp_path / "broken", "[board\n"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no board folders"):
        load_targets(tmp_path / "empty")


def test_budget_region_is_one_data_region_at_zero():
    assert budget_region(65536) == Region("budget", 0, 65536, "data")


def test_the_example_in_adding_a_board_loads(tmp_path):
    doc = Path(__file__).resolve().parents[2] / "docs" / "adding_a_board.md"
    example = re.search(r"```toml\n(.*?)```", doc.read_text(), re.S).group(1)
    board = load_targets(write_table(tmp_path, example, "mychip"))["mychip"]
    assert [r.name for r in board.data_regions] == ["CCM", "SRAM1", "SRAM2"]
