"""Patch stages in C (backends/c/ops/patch_stage.py) against TFLite's reference kernels, bit for bit.

Random 2-4 op chains (stage_models), and random chains ending in 2-3 terminal ops that share the chain's last
tensor (several stage outputs), are each forced into one patch stage over a grid drawn from 1x1 to 4x4 (the
automatic choice would often keep such small models whole), planned, generated and built into one sanitizer
host executable; every output byte must equal BUILTIN_REF's. VWW, where the choice is automatic, is in
test_mlperf.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from sapool.ir.read import read_tflite_bytes
from sapool.passes.patches import rewrite, stage_runs, stages
from tests.backends.c.host_batch import build_batch, run_batch
from tests.backends.c.single_op_models import random_inputs, run_reference
from tests.backends.c.stage_models import build_stage_model, build_terminal_stage_model

SEEDS = range(32)
TERMINAL_SEEDS = range(24)
INPUTS_PER_MODEL = 3


def _staged(model, seed: int):
    graph = read_tflite_bytes(model.content, f"stage{seed}")
    assert stage_runs(graph) == [(0, len(graph.ops) - 1)], model.label
    for size in range(1 + seed % 4, 0, -1):  # the drawn grid, or the finest one the output allows
        staged = rewrite(graph, 0, len(graph.ops) - 1, (size, size))
        if staged is not None:
            return staged
    raise AssertionError(f"{model.label}: not even a 1x1 grid fits")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    models = [build_stage_model(seed) for seed in SEEDS]
    graphs = [_staged(model, seed) for seed, model in zip(SEEDS, models)]
    return models, graphs, build_batch(graphs, tmp_path_factory.mktemp("patch_stages"))


def test_every_model_became_one_patch_stage(batch):
    _, graphs, _ = batch
    assert all(len(graph.ops) == 1 and len(stages(graph)) == 1 for graph in graphs)
    grids = {stages(graph)[0].options.grid for graph in graphs}
    assert {(2, 2), (3, 3)} <= grids  # several patches per stage, not only whole-image runs


def test_patch_stages_are_bit_exact_with_tflite_reference(batch):
    models, _, executable = batch
    mismatched = []
    for k, model in enumerate(models):
        samples = [random_inputs(model, seed) for seed in range(INPUTS_PER_MODEL)]
        packed = np.stack([sample[0].ravel() for sample in samples])
        outputs = run_batch(executable, k, packed, int(np.prod(model.output_shape)))
        expected = np.stack([run_reference(model.content, sample)[0].ravel() for sample in samples])
        if not np.array_equal(outputs, expected):
            mismatched.append(f"{model.label}: {int((outputs != expected).sum())} bytes differ")
    assert not mismatched, "\n".join(mismatched)


@pytest.fixture(scope="module")
def terminal_batch(tmp_path_factory):
    models = [build_terminal_stage_model(seed) for seed in TERMINAL_SEEDS]
    graphs = [_staged(model, seed) for seed, model in zip(TERMINAL_SEEDS, models)]
    return models, graphs, build_batch(graphs, tmp_path_factory.mktemp("terminal_stages"))


def test_every_terminal_model_became_one_stage_with_one_output_per_terminal_op(terminal_batch):
    models, graphs, _ = terminal_batch
    for model, graph in zip(models, graphs):
        (stage,) = stages(graph)
        assert len(graph.ops) == 1 and stage.options.terminals == len(graph.outputs) >= 2, model.label
        assert stage.outputs == graph.outputs, model.label
    assert {(2, 2), (3, 3)} <= {stages(graph)[0].options.grid for graph in graphs}


def test_terminal_stages_are_bit_exact_with_tflite_reference(terminal_batch):
    models, graphs, executable = terminal_batch
    mismatched = []
    for k, (model, graph) in enumerate(zip(models, graphs)):
        samples = [random_inputs(model, seed) for seed in range(INPUTS_PER_MODEL)]
        packed = np.stack([sample[0].ravel() for sample in samples])
        output_bytes = sum(graph.tensor(i).nbytes for i in graph.outputs)
        outputs = run_batch(executable, k, packed, output_bytes)
        expected = np.stack([np.concatenate([o.ravel() for o in run_reference(model.content, sample)])
                             for sample in samples])
        if not np.array_equal(outputs, expected):
            mismatched.append(f"{model.label}: {int((outputs != expected).sum())} bytes differ")
    assert not mismatched, "\n".join(mismatched)
