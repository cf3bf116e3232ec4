"""compare_outputs: counts, histogram, first divergence and the known FULLY_CONNECTED note."""

import numpy as np
import pytest

from sapool.errors import BadInputError
from sapool.ir.read import read_tflite, read_tflite_bytes
from sapool.verify.compare import compare_outputs, first_divergence
from sapool.verify.interpreters import run_model
from tests.conftest import shared_model
from tests.verify.int8_models import random_inputs, tiny_int8_bytes

TINY = read_tflite_bytes(tiny_int8_bytes(), "tiny")  # CONV_2D (op 0) -> RESHAPE (op 1) -> FULLY_CONNECTED (op 2)


def test_counts_and_histogram():
    reference = np.array([[0, 5, -128], [7, 7, 7]], np.int8)
    candidate = np.array([[0, 6, -125], [7, 7, 7]], np.int8)
    result = compare_outputs(reference, candidate)
    assert (result.total, result.bit_exact, result.max_lsb_diff) == (6, 4, 3)
    assert result.lsb_histogram == {1: 1, 3: 1}
    assert (result.samples, result.samples_bit_exact) == (2, 1)
    assert result.bit_exact_fraction == pytest.approx(4 / 6) and not result.identical
    assert result.note is None and result.first_divergence is None
    assert result.to_json()["lsb_histogram"] == {"1": 1, "3": 1}


def test_no_overflow_at_the_int8_extremes():
    result = compare_outputs(np.array([[-128]], np.int8), np.array([[127]], np.int8))
    assert result.max_lsb_diff == 255


def test_identical_outputs():
    outputs = np.arange(12, dtype=np.int8).reshape(3, 4)
    result = compare_outputs(outputs, outputs.copy(), graph=TINY)
    assert result.identical and result.max_lsb_diff == 0 and result.note is None


def test_shape_mismatch_is_bad_input():
    with pytest.raises(BadInputError, match=r"shapes \[2, 3\] and \[2, 4\]"):
        compare_outputs(np.zeros((2, 3), np.int8), np.zeros((2, 4), np.int8))


def test_one_lsb_with_fully_connected_gets_the_note_without_intermediates():
    result = compare_outputs(np.array([[1, 2]], np.int8), np.array([[1, 3]], np.int8), graph=TINY)
    assert "FULLY_CONNECTED" in result.note
    two_lsb = compare_outputs(np.array([[1, 2]], np.int8), np.array([[1, 4]], np.int8), graph=TINY)
    assert two_lsb.note is None


def intermediates(conv_shift=0, flat_shift=0, out_shift=0):
    base = {3: np.zeros((1, 1, 16, 16, 3), np.int8), 5: np.zeros((1, 1, 768), np.int8), 8: np.zeros((1, 1, 5), np.int8)}
    changed = {3: base[3] + conv_shift, 5: base[5] + flat_shift, 8: base[8] + out_shift}
    return base, changed


def test_first_divergence_is_the_earliest_op_whose_output_differs():
    assert first_divergence(TINY, *intermediates()) is None
    divergence = first_divergence(TINY, *intermediates(flat_shift=2, out_shift=1))
    assert (divergence.op_index, divergence.opcode, divergence.tensor, divergence.max_lsb_diff) == (
        1, "RESHAPE", 5, 2)


def test_note_only_when_the_first_divergence_is_a_one_lsb_fully_connected():
    outputs = np.zeros((1, 5), np.int8), np.full((1, 5), 3, np.int8)
    after_fc = compare_outputs(*outputs, graph=TINY, intermediates=intermediates(out_shift=1))
    assert after_fc.first_divergence.opcode == "FULLY_CONNECTED"
    assert "first differ after op 2 (FULLY_CONNECTED) by 1 LSB" in after_fc.note
    after_conv = compare_outputs(*outputs, graph=TINY, intermediates=intermediates(conv_shift=1, out_shift=1))
    assert after_conv.first_divergence.opcode == "CONV_2D" and after_conv.note is None


def test_tflm_vs_reference_on_ad01_is_reported_as_the_fully_connected_difference():
    path = shared_model("ad01_int8")
    graph = read_tflite(path)
    inputs = random_inputs((640,), 20)
    reference = run_model(path, inputs, "litert-ref", intermediates=True)
    micro = run_model(path, inputs, "tflm", intermediates=True)
    result = compare_outputs(reference.outputs, micro.outputs, graph=graph,
                             intermediates=(reference.intermediates, micro.intermediates))
    assert 0 < result.max_lsb_diff <= 3  # DESIGN §7: up to 3 LSB after the first FULLY_CONNECTED
    assert result.first_divergence.op_index == 0 and result.note is not None
