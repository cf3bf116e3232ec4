"""The compile plan step: the C backend's graph (patch stage included) planned once, the same choice `sapool plan`
makes, and `--patches off` keeping every op whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapool.compile_steps.job import CompileJob, CompileRequest
from sapool.compile_steps.planning import plan
from sapool.ir.read import read_tflite
from sapool.planning import PlanOptions, plan_file
from sapool.targets import get_target
from tests.conftest import shared_model


def _planned(patches: str) -> CompileJob:
    model = shared_model("vww_96_int8")
    job = CompileJob(CompileRequest(model=model, target="stm32h7", output=Path("unused"), patches=patches))
    job.target, job.graph = get_target("stm32h7"), read_tflite(model)
    plan(job)
    return job


@pytest.mark.parametrize("patches", ["auto", "off"])
def test_compile_plans_the_stage_sapool_plan_reports(patches):
    job = _planned(patches)
    reported = plan_file(shared_model("vww_96_int8"), "stm32h7", PlanOptions(patches=patches))
    planned = [(stage.ops, stage.grid) for stage in job.report.patch_stages]
    assert planned == [(stage.ops, stage.grid) for stage in reported.patch_stages]
    assert planned == ([((0, 1, 2, 3), (8, 8))] if patches == "auto" else [])
    assert [op.opcode for op in job.layout.graph.ops] == [layer.op for layer in reported.layers]
    if patches == "auto":  # the stage's scratch: its two patch buffers, then the stem's two im2col windows
        assert job.layout.scratch_slot(0).size == 1_088 + 784 + 2 * 27
    # the compile plan adds the other kernels' scratch, never less than the report's peak
    assert job.layout.peak_arena_bytes >= reported.peak_arena_bytes
    assert job.report.unpatched_lower_bound_bytes >= 55_296 and job.report.tensor_lower_bound_bytes >= 55_296


def test_the_compile_summary_names_the_patched_layers_and_their_recompute():
    from types import SimpleNamespace

    from sapool.compile_steps.summary import render_summary

    job = _planned("auto")
    job.loaded = SimpleNamespace(kind="tflite-int8")
    text = render_summary(SimpleNamespace(job=job))
    assert "patches: layer 0 runs ops 0-3 in 8x8 patches, recompute +674,912 MACs (+9.0 % of the model)" in text
