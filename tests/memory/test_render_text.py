"""The text report: every layer and region is there, the peak is marked, and it stays within 100 columns."""

import re

from sapool.memory.render_text import WIDTH, to_text
from sapool.planning import PlanOptions, plan_file
from tests.conftest import shared_model


def test_every_model_renders_within_100_columns_with_one_row_per_op(mlperf_model):
    report = plan_file(mlperf_model, "stm32h7")
    text = to_text(report)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    rows = [line for line in text.splitlines() if re.match(r"^\s*\d+\s+[A-Z_0-9:]+\s", line)]
    assert [int(row.split()[0]) for row in rows] == list(range(len(report.layers)))
    assert "\x1b[" not in text  # no colour codes in a file


def test_peak_row_region_lines_and_verdict():
    report = plan_file(shared_model("vww_96_int8"), "stm32f4")
    lines = to_text(report).splitlines()
    marked = [line for line in lines if "◀" in line]
    assert len(marked) == 1 and marked[0].split()[:2] == ["0", "CUSTOM:SAPOOL_PATCH_STAGE"] and "38,800" in marked[0]
    assert any("region SRAM1" in line and "38,800 / 114,688 B used" in line and "[ok]" in line for line in lines)
    assert any("region SRAM2" in line and "0 / 16,384 B used" in line for line in lines)
    assert "SRAM1:0x" in "\n".join(lines)
    assert lines[-1].startswith("fits: 38,800 B of activations in SRAM1")


def test_overflowing_region_is_flagged():
    report = plan_file(shared_model("kws_ref_model"), "stm32h7", PlanOptions(ram_budget=8192))
    text = " ".join(to_text(report).split())  # undo rich's line wrapping
    assert "12,672 / 8,192 B used, 4,480 B over [OVER]" in text
    assert "does not fit the 8,192 B RAM budget on stm32h7" in text and "4,480 B over" in text
