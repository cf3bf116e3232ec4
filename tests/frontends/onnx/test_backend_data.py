"""The onnx wheel's own backend test models (pytorch-converted, pytorch-operator, simple: 109 small graphs, each
with a stored input and expected output) as a second, independent oracle next to onnxruntime: every one either
converts and reproduces its stored output, or is refused with one SapoolError line (an unsupported op, several
inputs, an opset onnxruntime cannot run for the parity check), never anything else."""

from pathlib import Path

import onnx
import pytest
import torch
from onnx import numpy_helper

from sapool.errors import SapoolError
from sapool.frontends import load_model

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
SETS = ("pytorch-converted", "pytorch-operator", "simple")
MODELS = sorted(str(path) for name in SETS for path in (DATA / name).glob("*/model.onnx"))


@pytest.fixture(scope="module")
def outcomes():
    """model path → LoadedModel or the SapoolError it raised."""
    if not MODELS:
        pytest.skip(f"no backend test data in this onnx installation ({DATA})")
    results = {}
    for path in MODELS:
        try:
            results[path] = load_model(path)
        except SapoolError as err:
            results[path] = err
    return results


def test_every_converted_model_reproduces_its_stored_output(outcomes):
    converted = {path: loaded for path, loaded in outcomes.items() if not isinstance(loaded, SapoolError)}
    assert len(converted) >= 50, "fewer backend test models convert than measured when this test was written"
    for path, loaded in converted.items():
        folder = path.rsplit("/", 1)[0] + "/test_data_set_0"
        x = numpy_helper.to_array(onnx.load_tensor(f"{folder}/input_0.pb"))
        expected = torch.from_numpy(numpy_helper.to_array(onnx.load_tensor(f"{folder}/output_0.pb")).copy())
        with torch.no_grad():
            got = loaded.module(torch.from_numpy(x.copy()))
        got = got if isinstance(got, torch.Tensor) else got[0]
        scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
        assert float((got - expected).abs().max()) / scale < 1e-5, path


def test_every_refusal_is_one_line_naming_the_file(outcomes):
    refused = {path: err for path, err in outcomes.items() if isinstance(err, SapoolError)}
    assert refused, "the sets contain ops sapool does not convert (3-D convolutions, RNNs)"
    for path, err in refused.items():
        message = str(err)
        assert "\n" not in message and message.startswith(path), message
