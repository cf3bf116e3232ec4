"""analyze: the figures of `sapool plan` on the real MLPerf Tiny models, checked against independent sources
(the models' README, DESIGN §7's lower bounds, the target table) and against each other."""

import pytest

from sapool.backends.c import prepare_for_c
from sapool.errors import BadInputError
from sapool.ir.read import read_tflite
from sapool.memory.analyze import unique_weight_bytes
from sapool.memory.lifetimes import aligned
from sapool.planning import PlanOptions, plan_file, plan_report
from sapool.targets import Region, Target, get_target
from tests.conftest import shared_model

# Lifetime lower bounds of the tensors from DESIGN §7, plus the C kernels' scratch live at that op (every command
# declares it): ResNet's 3x3 CONV_2D at its peak gathers two im2col windows of 3·3·8 = 72 B (144 B); KWS's peak
# op has none. Constant bytes from the models' README.
LOWER_BOUND = {"vww_96_int8": 55_296, "pretrainedResnet_quant": 49_152 + 144, "kws_ref_model": 16_000,
               "ad01_int8": 768}
# With in-place layers (memory/in_place.py): ResNet's residual ADDs and 3x3 convs, KWS's depthwise/pointwise stack;
# KWS's peak is then its first CONV_2D, whose kernel gathers two 10·4·1 = 40 B windows (80 B of scratch).
IN_PLACE_LOWER_BOUND = {"vww_96_int8": 55_296, "pretrainedResnet_quant": 33_792 + 144, "kws_ref_model": 12_592 + 80,
                        "ad01_int8": 768}
# With the patch stage too (passes/patches.py): vww's ops 0-3 in 8x8 patches keep only the 96x96x3 input, the
# 24x24x16 output and 1,926 B of scratch live: the two patch buffers (1,088 + 784 B aligned) and the stem's two
# im2col windows (54 B) (27,648 + 9,216 + 1,936 aligned); the other
# three gain nothing from patches, so they keep their ops whole.
PLANNED_LOWER_BOUND = {**IN_PLACE_LOWER_BOUND, "vww_96_int8": 38_800}
CONSTANT_BYTES = {"vww_96_int8": 219_072, "pretrainedResnet_quant": 78_752, "kws_ref_model": 24_376, "ad01_int8": 270_880}


def _two_region_target(fast_kib: int, slow_kib: int) -> Target:
    regions = (Region("FAST", 0x2000_0000, fast_kib * 1024), Region("SLOW", 0x3000_0000, slow_kib * 1024))
    return Target("two_regions", "TEST", "cortex-m4", "none", 1, 0x0800_0000, 1 << 20, regions, "test", "mps2-an386")


def test_every_model_fits_stm32h7_with_consistent_figures(mlperf_model):
    graph = prepare_for_c(read_tflite(mlperf_model))
    report = plan_file(mlperf_model, "stm32h7")
    name = mlperf_model.stem
    assert report.fits and not report.split
    assert len(report.layers) == len(graph.ops)
    assert [layer.op for layer in report.layers] == [op.opcode for op in graph.ops]
    assert report.tensor_lower_bound_bytes == LOWER_BOUND[name]
    assert report.unpatched_lower_bound_bytes == IN_PLACE_LOWER_BOUND[name]
    assert report.lower_bound_bytes == PLANNED_LOWER_BOUND[name] == max(layer.live_bytes for layer in report.layers)
    assert bool(report.patch_stages) == (name == "vww_96_int8")
    assert report.peak_arena_bytes == report.lower_bound_bytes  # the default planner reaches LB on all four
    assert report.weights_bytes == CONSTANT_BYTES[name]
    assert report.regions[0].name == "DTCM" and report.regions[0].used_bytes == report.peak_arena_bytes


def test_kws_layer_rows_are_the_ds_cnn_figures_by_hand():
    """kws_ref_model is DS-CNN (MLPerf Tiny README): a 49×10×1 input, a 10×4 stride-2 conv to 25×5×64, four
    depthwise-3×3 + pointwise-64 pairs, average pool, FC to 12 classes. Int8 weights, int32 biases. Planned with
    LiteRT's rounding, so the FC stays one op (with TFLite-Micro's, passes/fc_as_conv runs it as a 1×1 conv)."""
    report = plan_file(shared_model("kws_ref_model"), "stm32h7", PlanOptions(rounding="tflite"))
    rows = {layer.index: layer for layer in report.layers}
    pixels = 25 * 5
    expected = {  # index: (op, output shape, output bytes, weight bytes, MACs)
        0: ("CONV_2D", (1, 25, 5, 64), pixels * 64, 64 * 10 * 4 + 64 * 4, pixels * 64 * 10 * 4),
        1: ("DEPTHWISE_CONV_2D", (1, 25, 5, 64), pixels * 64, 3 * 3 * 64 + 64 * 4, pixels * 64 * 9),
        2: ("CONV_2D", (1, 25, 5, 64), pixels * 64, 64 * 64 + 64 * 4, pixels * 64 * 64),
        11: ("FULLY_CONNECTED", (1, 12), 12, 12 * 64 + 12 * 4, 12 * 64),
    }
    for index, (op, shape, output, weights, macs) in expected.items():
        row = rows[index]
        assert (row.op, row.output_shape, row.output_bytes, row.weight_bytes, row.macs) == (op, shape, output,
                                                                                              weights, macs)
    # the depthwise/pointwise pairs write over their input (one buffer for the chain); at op 0 that buffer, the
    # 490 B input (496 aligned) and the first conv's two 10·4·1 im2col windows (80 B) are live
    assert all(rows[index].in_place for index in range(1, 9)) and not rows[0].in_place
    assert rows[0].live_bytes == rows[1].live_bytes + 496 + 80


def test_live_bytes_are_the_aligned_sizes_of_the_buffers_live_at_each_op():
    report = plan_file(shared_model("vww_96_int8"), "stm32h7")
    for layer in report.layers:
        live = [b for b in report.buffers if b.first <= layer.index <= b.last]
        assert layer.live_bytes == sum(aligned(b.size_bytes, report.alignment) for b in live)


def test_buffers_in_one_region_never_overlap_while_both_live():
    report = plan_file(shared_model("pretrainedResnet_quant"), "stm32h7")
    for a in report.buffers:
        assert a.address == report.regions[0].base + a.offset
        for b in report.buffers:
            if a.id < b.id and a.region == b.region and a.first <= b.last and b.first <= a.last:
                assert a.offset + aligned(a.size_bytes) <= b.offset or b.offset + aligned(b.size_bytes) <= a.offset


def test_vww_on_stm32f4_goes_whole_into_sram1():
    """38,800 B fits the 112 KiB SRAM1, the first (preferred) region, so nothing is split off into SRAM2."""
    report = plan_file(shared_model("vww_96_int8"), "stm32f4")
    sram1, sram2 = report.regions
    assert (sram1.name, sram1.size_bytes, sram1.used_bytes) == ("SRAM1", 112 * 1024, 38_800)
    assert (sram2.name, sram2.size_bytes, sram2.used_bytes) == ("SRAM2", 16 * 1024, 0)
    assert report.fits and not report.split and report.flash_fits
    assert {buffer.region for buffer in report.buffers} == {"SRAM1"}
    assert report.flash_size_bytes == get_target("stm32f4").flash_size


def test_ram_budget_too_small_reports_overflow_at_the_peak_layer():
    report = plan_file(shared_model("kws_ref_model"), "stm32h7", PlanOptions(ram_budget=8 * 1024))
    assert not report.fits and not report.ram_fits and report.flash_fits
    assert [region.name for region in report.regions] == ["budget"]
    assert report.ram_over_bytes == 12_592 + 80 - 8192  # the in-place lower bound with the im2col scratch, reached
    assert report.peak_layer.index == 0 and report.peak_layer.op == "CONV_2D"  # its input cannot be overwritten


def test_ram_budget_alone_needs_no_target():
    report = plan_file(shared_model("ad01_int8"), None, PlanOptions(ram_budget=1024))
    assert report.fits and report.target == "budget" and report.flash_fits is None


def test_split_over_two_regions_keeps_every_region_within_its_size():
    graph = read_tflite(shared_model("kws_ref_model"))
    report = plan_report(graph, _two_region_target(8, 8), model_name="kws")
    assert report.fits and report.split and not report.proven_optimal
    assert all(region.used_bytes <= region.size_bytes for region in report.regions)
    assert {buffer.region for buffer in report.buffers} == {"FAST", "SLOW"}
    for buffer in report.buffers:
        region = next(r for r in report.regions if r.name == buffer.region)
        assert buffer.offset + aligned(buffer.size_bytes) <= region.used_bytes
        assert buffer.address == region.base + buffer.offset


def test_split_that_cannot_fit_reports_overflow():
    """Without the patch stage, at op 2 of vww 36,864 + 18,432 B are live and neither buffer fits a 16 KiB region:
    no split can work."""
    graph = read_tflite(shared_model("vww_96_int8"))
    report = plan_report(graph, _two_region_target(48, 16), PlanOptions(patches="off"), model_name="vww")
    assert not report.fits
    assert report.ram_over_bytes == report.peak_arena_bytes - 48 * 1024 > 0


@pytest.mark.parametrize("planner", ["greedy", "multi_order"])
def test_named_planner_is_used(planner):
    report = plan_file(shared_model("kws_ref_model"), "stm32h7", PlanOptions(planner=planner))
    assert report.planner == planner and report.planners_used == (planner,)


def test_unique_weight_bytes_counts_shared_constants_once():
    graph = read_tflite(shared_model("kws_ref_model"))
    per_op = sum(graph.weight_bytes(op) for op in graph.ops)
    assert unique_weight_bytes(graph) <= per_op
    assert unique_weight_bytes(graph) == CONSTANT_BYTES["kws_ref_model"]


@pytest.mark.parametrize(
    "target, planner, message",
    [
        (None, "best", "--target"),
        ("stm32h8", "best", "stm32h7"),
        ("stm32h7", "fastest", "unknown planner"),
    ],
)
def test_bad_arguments_raise_bad_input(target, planner, message):
    with pytest.raises(BadInputError, match=message):
        plan_file(shared_model("ad01_int8"), target, PlanOptions(planner=planner))


def test_bad_model_file_raises_bad_input(tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x10\x00\x00\x00TFL3" + b"\xff" * 40)
    with pytest.raises(BadInputError):
        plan_file(corrupt, "stm32h7")
    with pytest.raises(BadInputError):
        plan_file(tmp_path / "missing.tflite", "stm32h7")
