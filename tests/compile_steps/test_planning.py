"""The compile plan step against hand-computed figures for vww_96_int8 on stm32h7: the C backend's graph (patch
stage included) planned once with every kernel's scratch, and TFLite-Micro's offline plan derived from it once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from sapool.compile_steps.job import CompileJob, CompileRequest
from sapool.compile_steps.planning import plan
from sapool.ir.read import read_tflite
from sapool.memory.lifetimes import aligned
from sapool.targets import get_target
from tests.conftest import shared_model


def _planned(patches: str, offline_plan: bool = True) -> CompileJob:
    model = shared_model("vww_96_int8")
    job = CompileJob(CompileRequest(model=model, target="stm32h7", output=Path("unused"), patches=patches,
                                    offline_plan=offline_plan))
    job.target, job.graph = get_target("stm32h7"), read_tflite(model)
    job.loaded = SimpleNamespace(kind="tflite-int8")
    plan(job)
    return job


def test_with_patches_the_stem_stage_runs_in_8x8_patches_and_the_peak_is_its_input_output_and_scratch():
    """Ops 0-3 in 8×8 patches: live at op 0 are the 96×96×3 input (27,648 B), the stage's 24×24×16 output
    (9,216 B) and its scratch: two patch buffers (1,088 + 784 B) and the stem's two 3·3·3 im2col windows (54 B)."""
    job = _planned("auto")
    assert [(stage.ops, stage.grid) for stage in job.report.patch_stages] == [((0, 1, 2, 3), (8, 8))]
    scratch = 1_088 + 784 + 2 * 27
    assert job.layout.scratch_slot(0).size == scratch
    assert job.layout.peak_arena_bytes == job.layout.lower_bound_bytes == 96 * 96 * 3 + 24 * 24 * 16 + aligned(scratch)


def test_without_patches_the_peak_is_the_48x48_pair_of_design_7():
    """--patches off: at op 2, 48×48×16 (36,864 B) and 48×48×8 (18,432 B) live together, DESIGN §7's bound."""
    job = _planned("off")
    assert job.report.patch_stages == () and job.report.peak_layer.index == 2
    assert job.layout.peak_arena_bytes == 48 * 48 * 16 + 48 * 48 * 8 == 55_296


@pytest.mark.parametrize("patches", ["auto", "off"])
def test_the_tflite_micro_offline_plan_is_one_arena_of_the_models_own_ops(patches):
    """TFLite-Micro runs the model's own 31 ops (no fusion, no patches, nothing in place) in one arena: its head
    is DESIGN §7's lower bound 55,296 B whatever the firmware's plan."""
    job = _planned(patches)
    offline = job.tflm_layout
    assert offline.graph is job.graph and len(offline.graph.ops) == len(read_tflite(shared_model("vww_96_int8")).ops)
    assert not offline.in_place_ops and offline.alignment == 16
    assert offline.peak_arena_bytes == 55_296
    assert _planned(patches, offline_plan=False).tflm_layout is None


def test_the_compile_summary_names_the_patched_layers_and_their_recompute():
    from sapool.compile_steps.summary import render_summary

    job = _planned("auto")
    text = render_summary(SimpleNamespace(job=job))
    assert "patches: layer 0 runs ops 0-3 in 8x8 patches, recompute +674,912 MACs (+9.0 % of the model)" in text
