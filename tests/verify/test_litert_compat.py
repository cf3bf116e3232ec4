"""A per-tensor quantized_dimension outside the tensor's rank (as in TFLite-Micro's own person_detect.tflite):
LiteRT refuses such a file, TFLite-Micro runs it. sapool gives LiteRT a copy with the field set to 0 and says so;
an interpreter crash on a user's .tflite is one Error line with exit 2."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray
from click.testing import CliRunner

from sapool.cli import main
from sapool.verify.interpreters import run_model
from sapool.verify.litert_compat import normalise_for_litert
from tests.verify.int8_models import random_inputs, tiny_int8_model, with_metadata

INPUT_SHAPE = (16, 16, 2)


def old_style_model() -> bytes:
    model = tiny_int8_model()
    model.subgraphs[0].tensors[5].quantization.quantizedDimension = 3  # "flat", rank 2, one scale
    return bytes(convert_object_to_bytearray(model))


def test_litert_refuses_the_field_and_the_normalised_copy_differs_only_there():
    from ai_edge_litert.interpreter import Interpreter

    data = old_style_model()
    try:
        Interpreter(model_content=data).allocate_tensors()
        refused = ""
    except (RuntimeError, ValueError) as error:
        refused = str(error)
    assert "quantized_dimension must be in range [0, 2). Was 3." in refused
    fixed, changed = normalise_for_litert(data)
    assert changed == ("flat",) and len(fixed) == len(data)
    assert np.count_nonzero(np.frombuffer(fixed, np.uint8) != np.frombuffer(data, np.uint8)) == 1
    assert normalise_for_litert(fixed) == (fixed, ())
    inputs = random_inputs(INPUT_SHAPE, 3)
    reference = run_model(data, inputs, "litert-ref").outputs
    assert np.abs(reference.astype(int) - run_model(data, inputs, "tflm").outputs).max() <= 1


def test_compile_says_so_and_a_crashing_file_is_one_error_line(tmp_path):
    model = tmp_path / "old.tflite"
    model.write_bytes(old_style_model())
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "stm32h7", "-o", str(tmp_path / "out"),
                                       "--no-build"])
    assert result.exit_code == 0, result.output
    assert "quantized_dimension outside their rank" in result.output
    hostile = tmp_path / "hostile.tflite"  # TFLite-Micro dereferences the empty offline-plan buffer: SIGSEGV
    hostile.write_bytes(with_metadata(tiny_int8_model(), "OfflineMemoryAllocation", 0))
    crashed = CliRunner().invoke(main, ["compile", str(hostile), "-t", "stm32h7", "-o", str(tmp_path / "out2"),
                                        "--no-build", "-q"])
    assert crashed.exit_code == 2, crashed.output
    assert [line for line in crashed.output.splitlines() if line.strip()] == [
        next(line for line in crashed.output.splitlines() if line.startswith("Error: "))]
    assert "crashed (SIGSEGV)" in crashed.output
