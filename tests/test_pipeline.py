"""`sapool compile` from float models: the shipped SAP checkpoint, its ONNX export, and a third-party-style ONNX CNN.

Oracles: the float model itself (top-1 on 1,000 held-out Fashion-MNIST images), TFLite's reference kernels and the
TFLite-Micro interpreter (the verify step), the .pt route's int8 model for the ONNX route, and the ELF's arena.
Each conversion is run once per module (they take tens of seconds).
"""

import json
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sapool.cli import main
from sapool.frontends import load_model
from sapool.ir.read import read_tflite
from sapool.models.sap import set_export_form
from sapool.quantize.int8_run import quantize
from sapool.train.checkpoint import load_model as load_checkpoint_model
from sapool.data.datasets import FASHION_MNIST_DIR
from sapool.verify.interpreters import run_model
from tests.frontends.onnx.test_third_party_cnn import third_party_cnn
from tests.conftest import with_default_sigint
from tests.frontends.onnx.test_sapool_export import SHIPPED

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")]


def _compile(*args):
    result = CliRunner().invoke(main, ["compile", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("shipped") / "mcunet"
    return out, _compile(SHIPPED, "-t", "stm32h7", "-o", out, "--calib-samples", 100, "--eval-samples", 1000)


def test_the_shipped_sap_model_compiles_all_int8_within_one_point_of_float(shipped):
    out, document = shipped
    assert document["model_kind"] == "sapool-checkpoint"
    assert document["int8"]["all_int8"] and "SOFTMAX" in document["int8"]["ops"]
    assert all(t.dtype in ("int8", "int32") for t in read_tflite(out / "model.tflite").tensors)
    accuracy = document["accuracy"]
    assert accuracy["images"] == 1000
    assert accuracy["float_top1"] - accuracy["int8_top1"] <= 0.01
    assert accuracy["layers"] and all(-1.0 <= layer["cosine"] <= 1.0 for layer in accuracy["layers"])
    verify = document["verify"]
    assert verify["details"]["samples"] == 10 and verify["max_lsb_diff"] <= 3  # TFLM's FC rounding at most
    assert document["plan"]["fits"] and document["firmware"]["arena_bytes"] == document["plan"]["peak_arena_bytes"]
    assert [s["name"] for s in document["steps"]][:5] == ["load", "calibrate", "quantize", "read", "accuracy"]
    # model.h tells the application what the checkpoint recorded: its classes and the input normalisation
    header = (out / "model/model.h").read_text()
    checkpoint = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert f"#define SAPOOL_MODEL_NUM_CLASSES  {len(checkpoint['class_names'])}" in header
    assert '"T-shirt/top"' in header and "#define SAPOOL_MODEL_INPUT0_MEAN  {" in header


def test_the_onnx_export_of_the_shipped_model_compiles_to_the_same_int8_model_within_one_lsb(shipped, tmp_path):
    model, checkpoint = load_checkpoint_model(SHIPPED)
    set_export_form(model)
    onnx_path = tmp_path / "mcunet_sap.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, 1, 64, 64),), str(onnx_path), dynamo=False)
    norm = load_model(SHIPPED).normalization
    out = tmp_path / "onnx"
    document = _compile(onnx_path, "-t", "stm32h7", "-o", out, "--calib", "fashion-mnist", "--calib-samples", 100,
                        "--calib-mean", norm.mean[0], "--calib-std", norm.std[0], "--no-build")
    assert document["model_kind"] == "onnx" and document["int8"]["all_int8"]
    images = np.random.default_rng(3).uniform(-0.8, 2.0, (16, 64, 64, 1)).astype(np.float32)
    outputs = []
    for path in (shipped[0] / "model.tflite", out / "model.tflite"):
        graph = read_tflite(path)
        outputs.append(run_model(path, quantize(images, graph.tensor(graph.inputs[0])), "litert-ref").outputs)
    assert np.abs(outputs[0].astype(int) - outputs[1].astype(int)).max() <= 1


def test_a_third_party_style_onnx_cnn_compiles_and_builds(tmp_path):
    path = third_party_cnn(tmp_path / "third_party.onnx")
    out = tmp_path / "cnn"
    document = _compile(path, "-t", "stm32f4", "-o", out, "--calib", "random", "--calib-samples", 32)
    assert document["model_kind"] == "onnx" and document["int8"]["all_int8"]
    assert document["accuracy"] is None and any("random" in w for w in document["warnings"])
    assert document["firmware"]["arena_bytes"] == document["plan"]["peak_arena_bytes"]
    assert (out / "tflm" / "model_data.cc").is_file()


def test_ctrl_c_during_calibration_exits_130_and_leaves_no_folder(tmp_path):
    out = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "sapool", "compile", str(SHIPPED), "-t", "stm32h7", "-o",
                                str(out)], stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "120"},
                               preexec_fn=with_default_sigint)
    for line in process.stderr:  # the load step's line: the next steps calibrate and quantise
        if line.strip().startswith("load"):
            break
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 130, rest
    assert "Traceback" not in rest
    assert list(tmp_path.iterdir()) == []


def test_every_step_reads_only_what_an_earlier_step_made_and_declares_what_it_touches():
    """STEPS is the compiler's data flow: a field a step reads is made by a step before it, and the step's own
    body touches no CompileJob field it does not declare (read from its source, so a new `job.x` must be listed)."""
    import inspect
    import re
    from dataclasses import fields

    from sapool.compile_steps.job import CompileJob
    from sapool.pipeline import STEPS

    artefacts = {f.name for f in fields(CompileJob)} - {"request", "warnings", "folder", "timings", "terminal"}
    made: set[str] = set()
    for step in STEPS:
        assert set(step.reads) <= made, (step.name, set(step.reads) - made)
        touched = set(re.findall(r"job\.(\w+)", inspect.getsource(step.run))) & artefacts
        assert touched <= set(step.reads) | set(step.makes), (step.name, touched - set(step.reads) - set(step.makes))
        made |= set(step.makes)
    assert made == artefacts  # every artefact has a step that makes it


def test_an_applies_check_never_warns_the_runner_says_why_a_step_was_skipped():
    from pathlib import Path
    from types import SimpleNamespace

    from sapool.compile_steps.job import CompileJob, CompileRequest
    from sapool.pipeline import STEPS, run_steps

    job = CompileJob(CompileRequest(model=Path("m.pt"), target="stm32h7", output=Path("out")))
    job.quantized = SimpleNamespace()  # a float model was quantised, but there are no held-out images
    job.loaded = SimpleNamespace(dataset=None)
    accuracy = next(step for step in STEPS if step.name == "accuracy")
    assert accuracy.applies(job) is False and job.warnings == []
    run_steps(job, ["accuracy"])
    assert job.warnings == ["float vs int8 accuracy not measured: no held-out images (pass --eval DATA)"]
