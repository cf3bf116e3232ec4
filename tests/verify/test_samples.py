"""Verification inputs: the shipped MLPerf samples first (kws: the int8 sample; ad01: quantised spectrogram
windows), then seeded random inputs; raw input files checked against the model's input size."""

import numpy as np
import pytest

from sapool.errors import BadInputError
from sapool.ir.read import read_tflite
from sapool.verify.samples import inputs_from_file, model_inputs
from tests.conftest import SHARED_MODELS, shared_model


def test_kws_gets_its_shipped_sample_then_reproducible_random_inputs():
    model = shared_model("kws_ref_model")
    graph = read_tflite(model)
    inputs = model_inputs(model, graph, 4)
    sample = np.fromfile(SHARED_MODELS / "samples/kws01/kws_sample0_int8.bin", dtype=np.int8)
    assert inputs.data.shape == (4, 490) and inputs.shipped == 1
    assert np.array_equal(inputs.data[0], sample)
    assert np.array_equal(model_inputs(model, graph, 4).data, inputs.data)
    assert inputs.description == "1 shipped sample + 3 seeded random (seed 0)"


def test_ad01_windows_are_five_frames_quantised_with_the_input_parameters():
    model = shared_model("ad01_int8")
    inputs = model_inputs(model, read_tflite(model), 3)
    frames = np.fromfile(SHARED_MODELS / "samples/ad01/normal_id_01_00000000_hist_librosa.bin", "<f4").reshape(200, 128)
    second_window = np.clip(np.round(frames[1:6].reshape(-1) / 0.391015232) + 89, -128, 127)
    assert inputs.shipped == 3
    assert np.array_equal(inputs.data[1], second_window.astype(np.int8))


def test_stored_rows_replace_the_shipped_samples_and_come_first():
    model = shared_model("kws_ref_model")
    stored = np.arange(2 * 490).reshape(2, 490).astype(np.int8)
    inputs = model_inputs(model, read_tflite(model), 3, stored=stored)
    assert inputs.shipped == 2 and np.array_equal(inputs.data[:2], stored)
    assert np.array_equal(inputs.data[2], model_inputs(model, read_tflite(model), 2).data[1])  # seed 0's first
    assert inputs.description == ("2 shipped samples stored by sapool compile + 1 seeded random "
                                  "(seed 0)")
    assert np.array_equal(model_inputs(model, read_tflite(model), 1, stored=stored).data, stored[:1])


def test_other_models_get_seeded_random_inputs_only():
    model = shared_model("vww_96_int8")
    inputs = model_inputs(model, read_tflite(model), 2, seed=5)
    assert inputs.shipped == 0 and inputs.data.shape == (2, 96 * 96 * 3)


def test_an_input_file_must_hold_whole_inputs(tmp_path):
    model = shared_model("kws_ref_model")
    graph = read_tflite(model)
    (tmp_path / "two.bin").write_bytes(bytes(980))
    assert inputs_from_file(tmp_path / "two.bin", graph).data.shape == (2, 490)
    (tmp_path / "odd.bin").write_bytes(bytes(500))
    with pytest.raises(BadInputError, match="not a whole number of inputs of 490 bytes"):
        inputs_from_file(tmp_path / "odd.bin", graph)
