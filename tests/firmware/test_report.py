"""The emulation report's text and JSON forms."""

import json

from sapool.firmware.report import EmulationReport, LayerFigures, RamFigures, to_json, to_text


LATENCY = {"core": "cortex-m4", "clock_hz": 180_000_000, "cycles": 9_000, "ms": 0.05, "layer_cycles": [6_000, 3_000],
           "layer_classes": [{"mac": 2000}, {"alu": 1000}], "assumptions": "cycle model: ..."}


def report(regions) -> EmulationReport:
    ram = RamFigures(planned_bytes=1000, predicted_bytes=1208, measured_bytes=1200, arena_bytes=1000, static_bytes=8,
                     stack_bytes=192, stack_bound_bytes=200, stack_high_water_bytes=240,
                     stack_reserved_bytes=8192, harness_bytes=64, regions=tuple(regions))
    return EmulationReport(
        model="m.tflite", target="stm32f4", board="qemu-m4", qemu_machine="mps2-an386", kernels="arm", inputs=2,
        inputs_description="2 seeded random (seed 0)", bit_exact=False, mismatches=1, max_lsb_diff=3,
        instructions_total=5000, macs=2000,
        layers=(LayerFigures(0, "CONV_2D", "model/block_1/conv2d_with_a_long_distinguishing_tail/Relu6", 2000, 4000,
                             6000),
                LayerFigures(1, "SOFTMAX", "Identity", 0, 1000, 3000)),
        ram=ram, flash_bytes=3000, flash_size_bytes=524288, latency=LATENCY,
    )


SPLIT = [{"name": "SRAM1", "size_bytes": 8192, "planned_bytes": 600, "measured_bytes": 600},
         {"name": "SRAM2", "size_bytes": 16384, "planned_bytes": 400, "measured_bytes": 400}]


def test_json_is_strict_and_carries_the_documented_keys():
    document = json.loads(to_json(report(SPLIT[:1])))
    assert document["schema_version"] == 1 and document["instructions_per_mac"] == 2.5
    assert document["layers"][1] == {"index": 1, "op": "SOFTMAX", "name": "Identity", "macs": 0,
                                     "instructions": 1000, "cycles": 3000}
    assert document["latency"] == LATENCY
    assert document["ram"]["regions"] == SPLIT[:1] and document["bit_exact"] is False


def test_text_names_the_mismatch_and_lists_regions_only_for_split_plans():
    single, split = to_text(report(SPLIT[:1])), to_text(report(SPLIT))
    assert "bit-exact with TFLite reference kernels: NO (1 of 2 differ, up to 3 LSB)" in single
    assert "2.50 per MAC" in single and "SRAM1:" not in single
    assert "  SRAM1: arena planned 600 B, in the ELF 600 B (region 8,192 B)" in split
    assert "  SRAM2: arena planned 400 B" in split


def test_text_leads_with_the_latency_and_flags_the_hotspot_layer_by_name():
    lines = to_text(report(SPLIT[:1])).splitlines()
    assert lines[1].startswith("latency: 9,000 cycles = 0.05 ms at 180 MHz on the stm32f4's cortex-m4")
    conv = next(line for line in lines if "CONV_2D" in line)
    softmax = next(line for line in lines if "SOFTMAX" in line)
    assert "...with_a_long_distinguishing_tail/Relu6 " in conv and " 80.0 " in conv and conv.endswith("<< hotspot")
    assert "Identity" in softmax and " 20.0 " in softmax and "hotspot" not in softmax
