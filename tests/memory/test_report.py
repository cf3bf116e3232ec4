"""The report data model: derived figures (peak, overflow, verdict) and the JSON document's stable keys."""

import json

from sapool.memory.report import SCHEMA_VERSION, BufferRow, LayerRow, MemoryReport, RegionRow
from sapool.memory.report_json import to_dict, to_json

DESIGN_KEYS = {
    "schema_version", "model", "target", "planner", "peak_arena_bytes", "lower_bound_bytes", "fits", "regions", "layers",
}
LAYER_KEYS = {"index", "op", "output_shape", "output_bytes", "weight_bytes", "macs", "live_bytes"}


def _report(region_sizes=(1024, 256), used=(640, 0), flash_size=4096, weights=1000, budget=None) -> MemoryReport:
    layers = (
        LayerRow(0, "CONV_2D", (1, 8, 8, 8), 512, 600, 9000, 640, (1,)),
        LayerRow(1, "FULLY_CONNECTED", (1, 10), 10, 400, 5120, 528, (2,)),
    )
    buffers = (
        BufferRow(0, ("input",), 128, 0, 0, "A", 512, 0x2000_0200),
        BufferRow(1, ("conv",), 512, 0, 1, "A", 0, 0x2000_0000),
        BufferRow(2, ("out",), 10, 1, 1, "A", 512, 0x2000_0200),
    )
    regions = tuple(
        RegionRow(name, 0x2000_0000 * (i + 1), size, use, "greedy" if use else None, bool(use))
        for i, (name, size, use) in enumerate(zip("AB", region_sizes, used))
    )
    return MemoryReport(
        model="tiny.tflite", target="board", target_part="PART", ram_budget_bytes=budget, planner="best",
        alignment=16, layers=layers, buffers=buffers, regions=regions, lower_bound_bytes=640, split=False,
        ram_fits=all(u <= s for s, u in zip(region_sizes, used)), weights_bytes=weights,
        flash_size_bytes=flash_size, elapsed_s=0.01234,
    )


def test_fitting_report_figures():
    report = _report()
    assert report.fits and report.ram_fits and report.flash_fits
    assert report.peak_arena_bytes == 640
    assert report.peak_layer.index == 0
    assert report.ram_over_bytes == 0
    assert report.proven_optimal
    assert report.planners_used == ("greedy",)
    assert report.verdict().startswith("fits: 640 B of activations in A (384 B headroom there)")


def test_overflow_is_the_sum_of_region_excesses_and_named_in_the_verdict():
    report = _report(region_sizes=(512, 256), used=(640, 0))
    assert not report.fits
    assert report.ram_over_bytes == 128
    verdict = report.verdict()
    assert "layer 0 (CONV_2D" in verdict and "128 B over" in verdict and "does not fit board" in verdict


def test_ram_budget_named_in_verdict():
    report = _report(region_sizes=(512,), used=(640,), budget=512)
    assert "does not fit the 512 B RAM budget on board" in report.verdict()


def test_flash_overflow_makes_the_report_not_fit():
    report = _report(flash_size=800, weights=1000)
    assert report.ram_fits and report.flash_fits is False and not report.fits
    assert "weights need 1,000 B of flash, 200 B over the 800 B available" in report.verdict()


def test_no_flash_size_means_flash_is_not_judged():
    report = _report(flash_size=None)
    assert report.flash_fits is None and report.fits


def test_json_has_the_design_keys_and_consistent_values():
    report = _report()
    document = json.loads(to_json(report))
    assert DESIGN_KEYS <= set(document)
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["fits"] is True
    assert document["peak_arena_bytes"] == 640 == max(layer["live_bytes"] for layer in document["layers"])
    assert [set(layer) >= LAYER_KEYS for layer in document["layers"]] == [True, True]
    assert document["layers"][0]["output_shape"] == [1, 8, 8, 8]
    assert document["regions"][0] == {
        "name": "A", "base": 0x2000_0000, "size_bytes": 1024, "used_bytes": 640, "headroom_bytes": 384,
        "planner": "greedy", "proven_optimal": True,
    }
    assert document["buffers"][1]["tensors"] == ["conv"]
    assert document["flash"] == {"weights_bytes": 1000, "size_bytes": 4096, "fits": True}
    assert document["elapsed_s"] == 0.0123


def test_to_dict_matches_to_json():
    report = _report(region_sizes=(512, 256), used=(640, 0))
    assert json.loads(to_json(report)) == to_dict(report)
    assert to_dict(report)["ram_over_bytes"] == 128
