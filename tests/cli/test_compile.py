"""`sapool compile` on int8 .tflite models: the whole pipeline, its output folder, and its refusals.

The oracle for the numbers is the rest of sapool used independently: `sapool plan`'s report for the same target
(the compile plan adds only the C kernels' declared scratch), the ELF's arena sections (the firmware gets exactly
the planned arena), and the TFLite-Micro export files read back.
"""

import json
import shutil

import pytest
from click.testing import CliRunner

from sapool.backends.c import scratch_needs
from sapool.cli import main
from sapool.ir.read import read_tflite
from sapool.memory.lifetimes import aligned
from sapool.output_folders import OWNER_MARKER
from sapool.planning import plan_file
from tests.conftest import shared_model

NEEDS_ARM = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")


@pytest.fixture(scope="module")
def compiled_kws(tmp_path_factory):
    """kws_ref_model compiled once for stm32h7 (JSON on stdout)."""
    out = tmp_path_factory.mktemp("compile") / "kws"
    result = CliRunner().invoke(main, ["compile", str(shared_model("kws_ref_model")), "--target", "stm32h7",
                                       "-o", str(out), "--format", "json"])
    return out, result


@NEEDS_ARM
def test_compile_writes_the_whole_project_and_a_report_that_matches_its_parts(compiled_kws):
    out, result = compiled_kws
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == json.loads((out / "report.json").read_text())
    for name in ("model.tflite", "tflm/model_data.cc", "tflm/model_data.h", "tflm/op_resolver.h",
                 "tflm/arena_size.h", "Makefile", "model/model.c", "model/model.h", "report.html",
                 "memory_report.txt", "sapool_project.json"):
        assert (out / name).is_file(), name
    assert [step["name"] for step in document["steps"]] == [
        "load", "read", "verify", "plan", "export-tflm", "generate-c", "build", "latency"]  # "report" writes it
    assert document["model_kind"] == "tflite-int8" and document["int8"]["all_int8"] is True
    assert document["accuracy"] is None  # no float model to compare with
    assert json.loads((out / "sapool_project.json").read_text())["samples"] is None  # no data: no stored inputs
    assert not (out / "samples").exists()

    graph = read_tflite(shared_model("kws_ref_model"))
    plain = plan_file(shared_model("kws_ref_model"), "stm32h7")
    scratch = sum(aligned(size) for size in scratch_needs(graph).values())
    plan = document["plan"]
    assert plain.peak_arena_bytes <= plan["peak_arena_bytes"] <= plain.peak_arena_bytes + scratch
    assert plan["fits"] is True and plan["lower_bound_bytes"] <= plan["peak_arena_bytes"]
    assert document["firmware"]["arena_bytes"] == plan["peak_arena_bytes"]  # from the ELF: the plan, exactly
    firmware = document["firmware"]
    assert 0 < firmware["model_stack_bytes"] < firmware["stack_reserved_bytes"]
    assert firmware["predicted_ram_bytes"] == (plan["peak_arena_bytes"] + firmware["static_ram_bytes"]
                                               + firmware["model_stack_bytes"])
    assert document["firmware"]["flash_bytes"] > graph_weight_bytes(graph)
    assert 0.99 <= document["verify"]["bit_exact_fraction"] <= 1.0
    assert f"{document['tflm']['arena_bytes']}" in (out / "tflm/arena_size.h").read_text()
    page = (out / "report.html").read_text()
    assert "<h1>sapool compile: kws_ref_model.tflite" in page and "Host verification" in page

    # the totals lead every report: RAM and flash from the ELF, latency from the traced run at the board's clock
    totals, latency = document["totals"], document["latency"]
    assert list(document)[:2] == ["schema_version", "totals"]
    assert totals["ram_bytes"] == firmware["predicted_ram_bytes"] and totals["flash_bytes"] == firmware["flash_bytes"]
    assert totals["clock_hz"] == 480_000_000 and latency["core"] == "cortex-m7"
    assert totals["latency_cycles"] == latency["cycles"] == sum(latency["layer_cycles"]) > 0
    assert totals["latency_ms"] == round(totals["latency_cycles"] / 480_000, 3)
    assert page.index("<b>RAM</b>") < page.index("<b>flash</b>") < page.index("<b>latency</b>") < page.index("Summary")
    assert "model RAM: arena + static + worst-case stack" in page and "predicted_ram_bytes" not in page


def graph_weight_bytes(graph) -> int:
    return sum(t.nbytes for t in graph.tensors if t.is_constant)


@NEEDS_ARM
def test_an_existing_folder_is_kept_without_force_and_replaced_with_it(compiled_kws, tmp_path):
    out, _ = compiled_kws
    before = sorted(p.name for p in out.iterdir())
    refused = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), "-t", "stm32h7", "-o", str(out)])
    assert refused.exit_code == 2 and "already exists; pass --force" in refused.output
    assert sorted(p.name for p in out.iterdir()) == before
    target = tmp_path / "ad01"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    foreign = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), "-t", "stm32f4", "-o",
                                        str(target), "--force", "--no-build", "-q"])
    assert foreign.exit_code == 2 and "not written by sapool" in foreign.output and str(target) in foreign.output
    assert (target / "stale.txt").read_text() == "old"
    (target / OWNER_MARKER).write_text("")  # as if sapool had written it
    replaced = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), "-t", "stm32f4", "-o",
                                         str(target), "--force", "--no-build", "-q", "--rounding", "tflite"])
    assert replaced.exit_code == 0, replaced.output
    assert not (target / "stale.txt").exists() and (target / "model/model.c").is_file()
    assert "ad01_int8.tflite" in replaced.output and "report.html" in replaced.output
    summary = replaced.stdout.splitlines()  # the totals lead, each saying what it is (no firmware was built)
    assert summary[1].startswith("  RAM: ") and summary[1].endswith("B planned arena (firmware not built)")
    assert summary[2:4] == ["  flash: not built",
                            "  latency: not measured (needs the built firmware and qemu-system-arm)"]
    verify = json.loads((target / "report.json").read_text())["verify"]
    assert verify["rounding"] == "tflite"  # the reference kernels run FULLY_CONNECTED as they round it:
    assert verify["bit_exact_fraction"] < 1  # TFLM's FULLY_CONNECTED rounds differently (DESIGN §3)...
    assert verify["details"]["first_divergence"]["opcode"] == "FULLY_CONNECTED"  # ...located by intermediates
    assert "known FULLY_CONNECTED rounding" in verify["details"]["note"]


def test_with_tflite_micro_rounding_both_interpreters_agree_on_ad01(tmp_path):
    """The default --rounding tflm: the reference kernels run ad01's FULLY_CONNECTED ops as the firmware does (1×1
    CONV_2D, TFLite-Micro's rounding), so the verify step finds every output bit-exact."""
    result = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), "-t", "stm32f4", "-o",
                                       str(tmp_path / "ad01"), "--no-build", "-q"])
    assert result.exit_code == 0, result.output
    verify = json.loads((tmp_path / "ad01" / "report.json").read_text())["verify"]
    assert verify["rounding"] == "tflm" and verify["bit_exact_fraction"] == 1.0 and verify["max_lsb_diff"] == 0
    assert "1x1 CONV_2D" in verify["reference"]
    passes = json.loads((tmp_path / "ad01" / "report.json").read_text())["plan"]["passes"]
    fc_as_conv = next(step for step in passes if step["name"] == "fc-as-conv")
    assert fc_as_conv["ops_after"] == fc_as_conv["ops_before"] + 20  # ten FULLY_CONNECTED, three ops each
    assert [step["name"] for step in passes][:3] == ["fold-pad", "drop-noop-moves", "fc-as-conv"]


def test_a_model_that_does_not_fit_writes_nothing_and_says_what_would_help(tmp_path):
    out = tmp_path / "vww"
    result = CliRunner().invoke(main, ["compile", str(shared_model("vww_96_int8")), "-t", "stm32h7",
                                       "--ram-budget", "32K", "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert "does not fit" in result.output and "fewer channels or a smaller input" in result.output  # .tflite wording
    assert "peak arena" in result.stdout and "CONV_2D" in result.stdout  # the per-layer report comes first
    assert "Nothing was written" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--target", "nosuchboard"], "unknown target"),
    (["--target", "stm32h7", "--planner", "magic"], "invalid value for '--planner'"),
    (["--target", "stm32h7", "--calib-mean", "nan"], "--calib-mean takes"),
    (["--target", "stm32h7", "--calib-std", "1e-300"], "--calib-std values must lie in"),
    (["--target", "stm32h7", "--calib-std=-0.5"], "--calib-std values must lie in"),
    (["--target", "stm32h7", "--calib-mean", "1e9"], "--calib-mean values must lie in"),
])
def test_bad_options_fail_before_any_work(tmp_path, args, message):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(shared_model("ad01_int8")), *args, "-o", str(out)])
    assert result.exit_code == 2 and message in result.output.lower()
    assert not out.exists()


def test_an_output_folder_holding_the_model_is_refused_even_with_force(tmp_path):
    model = tmp_path / "ad01.tflite"
    model.write_bytes(shared_model("ad01_int8").read_bytes())
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "stm32h7", "-o", str(tmp_path), "--force"])
    assert result.exit_code == 2 and "holds the input" in result.output
    assert model.is_file()


def test_a_corrupt_model_is_one_error_line_and_no_folder(tmp_path):
    model = tmp_path / "broken.tflite"
    model.write_bytes(shared_model("ad01_int8").read_bytes()[:5000])
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "stm32h7", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    assert [p.name for p in tmp_path.iterdir()] == ["broken.tflite"]


# ---- float models: refusals that come before any conversion (fast) ----

def _refused(tmp_path, model, *args) -> str:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "stm32h7", "-o", str(out), "-q", *map(str, args)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return result.output


def test_a_pt_that_is_not_a_model_is_refused_unpickled(tmp_path):
    import torch

    model = tmp_path / "weights.pt"
    torch.save({"conv.weight": torch.zeros(2)}, model)
    assert "not" in _refused(tmp_path, model).lower()


def test_a_truncated_onnx_and_an_onnx_op_without_int8_lowering(tmp_path):
    from tests.frontends.onnx.onnx_graphs import OnnxGraph

    g = OnnxGraph([1, 3, 8, 8])
    x = g.node("Conv", ["image", g.weight("w", (4, 3, 3, 3))], "conv", pads=[1, 1, 1, 1])
    path = g.save(tmp_path / "erf.onnx", g.node("Erf", [x], "erf_node"), [1, 4, 8, 8])
    assert "Erf" in _refused(tmp_path, path) and "erf_node" in _refused(tmp_path, path)
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(path.read_bytes()[:40])
    _refused(tmp_path, truncated)


@pytest.mark.parametrize("count, channels, message", [(12, 1, "fewer than"), (40, 3, "channel")])
def test_calibration_data_of_the_wrong_shape_or_too_few_images(tmp_path, count, channels, message):
    from tests.quantize.test_calibration import write_npz

    data, _ = write_npz(tmp_path / "calib.npz", count, channels=channels)
    from tests.frontends.onnx.test_sapool_export import SHIPPED

    assert message in _refused(tmp_path, SHIPPED, "--calib", data, "--calib-samples", 20)
