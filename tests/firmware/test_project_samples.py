"""Held-out images stored by `sapool compile` in a project (samples/inputs.bin), run first by `sapool emulate DIR`.

One small checkpoint is trained and compiled once per module. Oracles: the test split's first images quantised
here by the formula of the model's input tensor, the bytes the firmware really read in QEMU, and TFLite's
reference kernels' argmax against the labels.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sapool.cli import main
from sapool.firmware.emulate import emulate
from sapool.firmware.project_samples import SAMPLES_FILE, STORED_COUNT
from sapool.frontends import load_model
from sapool.ir.read import read_tflite
from sapool.quantize.accuracy import evaluation_images
from sapool.quantize.images import ModelInput
from sapool.data.datasets import FASHION_MNIST_DIR
from sapool.verify.interpreters import run_model
from tests.firmware.fixture_models import require_firmware_tools

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")]

SMALL_NET = ["--arch", "mcunet", "--width", "0.25", "--pool", "max", "--input-size", "32", "--downsample", "standard",
             "--batch-size", "64", "--threads", "1", "--subset", "256", "--epochs", "1", "-q"]


def _sapool(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(checkpoint, project folder): a one-epoch checkpoint compiled for stm32h7 with its recorded data set."""
    threads = torch.get_num_threads()
    folder = tmp_path_factory.mktemp("stored_samples")
    checkpoint, project = folder / "model.pt", folder / "project"
    try:
        trained = _sapool("train", *SMALL_NET, "-o", checkpoint)
        assert trained.exit_code == 0, trained.output
        result = _sapool("compile", checkpoint, "--target", "stm32h7", "-o", project, "--calib-samples", 16,
                         "--eval-samples", 20, "--no-build", "-q")
        assert result.exit_code == 0, result.output
    finally:
        torch.set_num_threads(threads)
    return checkpoint, project


def test_compile_stores_the_first_held_out_images_quantised_as_the_firmware_input(compiled):
    checkpoint, project = compiled
    entry = json.loads((project / "sapool_project.json").read_text())["samples"]
    loaded = load_model(checkpoint)
    images, labels = evaluation_images(ModelInput(tuple(loaded.input_shape), loaded.normalization),
                                       recorded_dataset=loaded.dataset, count=STORED_COUNT)
    graph = read_tflite(project / "model" / "model.tflite")
    quantization = graph.tensor(graph.inputs[0]).quantization
    nhwc = np.asarray(images, dtype=np.float32).transpose(0, 2, 3, 1)
    expected = np.clip(np.round(nhwc / quantization.scale[0]) + quantization.zero_point[0], -128, 127).astype(np.int8)
    assert entry == {"path": SAMPLES_FILE, "count": STORED_COUNT, "labels": [int(label) for label in labels]}
    assert (project / SAMPLES_FILE).read_bytes() == expected.tobytes()
    assert len(set(entry["labels"])) > 1  # real, varied test images


@pytest.mark.emu
def test_emulate_runs_the_stored_images_bit_exact_and_counts_those_classified_right(compiled, tmp_path):
    require_firmware_tools()
    _, project = compiled
    report = emulate(project, None, tmp_path)
    stored = (project / SAMPLES_FILE).read_bytes()
    assert (tmp_path / "emulation" / "run" / "inputs.bin").read_bytes()[16:] == stored  # what the firmware read
    assert report.inputs == STORED_COUNT and report.bit_exact
    assert report.inputs_description == f"{STORED_COUNT} shipped samples stored by sapool compile"
    graph = read_tflite(project / "model" / "model.tflite")
    rows = np.frombuffer(stored, dtype=np.int8).reshape(STORED_COUNT, *graph.tensor(graph.inputs[0]).shape[1:])
    reference = run_model(project / "model" / "model.tflite", rows, "litert-ref").outputs.reshape(STORED_COUNT, -1)
    labels = json.loads((project / "sapool_project.json").read_text())["samples"]["labels"]
    assert report.labelled_inputs == STORED_COUNT
    assert report.classified_right == int((reference.argmax(axis=1) == np.asarray(labels)).sum())

    text = _sapool("emulate", project, "--inputs", 12, "-q")
    assert text.exit_code == 0, text.output
    assert (f"inputs: 12 ({STORED_COUNT} shipped samples stored by sapool compile + 2 seeded random "
            "(seed 0))") in text.stdout
    assert (f"classified right: {report.classified_right} of {STORED_COUNT} labelled inputs") in text.stdout
    document = json.loads(_sapool("emulate", project, "--inputs", 3, "--format", "json", "-q").stdout)
    assert document["inputs_description"] == "3 shipped samples stored by sapool compile"
    expected_right = int((reference.argmax(axis=1)[:3] == np.asarray(labels[:3])).sum())
    assert (document["labelled_inputs"], document["classified_right"]) == (3, expected_right)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda path: path.write_bytes(path.read_bytes()[:-1]), "corrupted or truncated"),
    (lambda path: path.write_bytes(path.read_bytes() + b"\0"), "corrupted or truncated"),
    (lambda path: path.unlink(), "cannot read the project's stored samples"),
])
def test_a_damaged_samples_file_is_one_error_line(compiled, tmp_path, damage, message):
    require_firmware_tools()
    copy = tmp_path / "project"
    shutil.copytree(compiled[1], copy)
    damage(copy / SAMPLES_FILE)
    result = _sapool("emulate", copy, "--format", "json", "--trust-project")  # past the file hashes, to the reader
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
