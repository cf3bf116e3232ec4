"""The advice of a report that does not fit: what it blames, how it words the overshoot, and per front end."""

import pytest

from sapool.memory.advice import io_over, suggestions
from sapool.memory.report import BufferRow, LayerRow, MemoryReport, RegionRow


def _report(*, input_bytes=4096, region_size=4096, budget=4096, kind="tflite-int8", regions=None) -> MemoryReport:
    """A two-op model: a 4,096 B input read by a conv writing 1,024 B, then a 10 B output."""
    layers = (
        LayerRow(0, "CONV_2D", (1, 16, 16, 4), 1024, 100, 1000, input_bytes + 1024, (1,)),
        LayerRow(1, "FULLY_CONNECTED", (1, 10), 10, 100, 100, 1034, (2,)),
    )
    buffers = (
        BufferRow(0, ("image",), input_bytes, 0, 0, "budget", 0, 0, kind="input"),
        BufferRow(1, ("features",), 1024, 0, 1, "budget", input_bytes, input_bytes),
        BufferRow(2, ("logits",), 10, 1, 1, "budget", 0, 0, kind="output"),
    )
    used = input_bytes + 1024
    regions = regions or (RegionRow("budget", 0, region_size, used, "greedy", True),)
    return MemoryReport(
        model="m.bin", target="budget" if budget else "board", target_part=None, ram_budget_bytes=budget,
        planner="best", alignment=16, layers=layers, buffers=buffers, regions=regions, lower_bound_bytes=used,
        split=False, ram_fits=all(region.fits for region in regions), weights_bytes=200, flash_size_bytes=None,
        elapsed_s=0.0, source_kind=kind,
    )


def test_an_input_alone_over_the_budget_is_said_and_no_pruning_is_suggested():
    report = _report(input_bytes=4096, region_size=4096)  # 4,096 B input + 1,024 B output of the conv: over
    assert io_over(report) is None  # the input itself fits: pruning the conv's channels can help
    over = _report(input_bytes=4112, region_size=4096)
    advice = suggestions(over)
    assert len(advice) == 1 and "input alone (image: 4,112 B) is larger than the 4,096 B of the budget" in advice[0]
    assert "prune" not in advice[0]


@pytest.mark.parametrize("kind, says, never", [
    ("sapool-checkpoint", "`sapool prune m.bin --ram-budget 4096 -o pruned.pt`", "your model's code"),
    ("onnx", "in your model's code and export it again", "sapool prune"),
    ("torch-export", "in your model's code and export it again", "sapool prune"),
    ("tflite-int8", "the model it was converted from", "your model's code"),
])
def test_the_way_to_shrink_is_worded_for_the_front_end(kind, says, never):
    text = " ".join(suggestions(_report(kind=kind)))
    assert says in text and never not in text
    assert "if the model came from" not in text


def test_the_overshoot_names_the_region_it_was_measured_on():
    """Two regions, the arena placed past the end of the larger one: the excess is against that region, not
    against the sum of both (the old wording said "over the 131,072 B of RAM")."""
    regions = (RegionRow("DTCM", 0x2000_0000, 4096, 5120, "greedy", True),
               RegionRow("SRAM", 0x3000_0000, 1024, 0, None, False))
    verdict = _report(budget=None, regions=regions).verdict()
    assert "1,024 B over the 4,096 B of DTCM" in verdict and "5,120 B of RAM" not in verdict


def test_a_fitting_report_has_no_advice():
    assert suggestions(_report(input_bytes=1024, region_size=4096)) == []
