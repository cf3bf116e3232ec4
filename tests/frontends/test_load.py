"""load_model dispatch and the bad inputs that never get past it: each one error line, nothing unpickled."""

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends import detect_kind, load_model
from tests.conftest import shared_model
from tests.ir.tflite_models import pack, tiny_float_model

REPO = Path(__file__).resolve().parents[2]


class MakesADirectoryWhenUnpickled:
    """A payload whose unpickling would run os.mkdir(marker): the loaders must refuse before that happens."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_importing_frontends_imports_neither_torch_nor_onnx():
    code = ("import sys, sapool.frontends; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnx', 'onnxruntime', 'numpy'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "[]"


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="is a directory") as err:
        load_model(tmp_path)
    _one_line(err)


@pytest.mark.parametrize("name", ["empty.pt", "empty.onnx", "empty.tflite", "empty.pt2"])
def test_an_empty_file_is_refused(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(BadInputError, match="is empty") as err:
        load_model(tmp_path / name)
    _one_line(err)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        load_model(tmp_path / "absent.onnx")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n")
    with pytest.raises(BadInputError, match=r"unknown model file type '.h5'.*\.pt2.*\.onnx") as err:
        load_model(tmp_path / "model.h5")
    _one_line(err)


def test_a_raw_pickle_with_a_malicious_reduce_is_refused_unread(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(MakesADirectoryWhenUnpickled(marker)))
    with pytest.raises(BadInputError, match="not a .pt file sapool can read") as err:
        load_model(path)
    _one_line(err)
    assert not marker.exists()


def test_a_torch_save_with_a_malicious_reduce_never_executes(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"model": MakesADirectoryWhenUnpickled(marker)}, path)
    assert detect_kind(path) == "sapool-checkpoint"
    with pytest.raises(BadInputError, match=r"holds pickled Python objects \(GLOBAL posix.mkdir\), which sapool "
                                             "never unpickles.*torch.export.save") as err:
        load_model(path)
    _one_line(err)
    assert not marker.exists()


def test_a_whole_pickled_module_is_refused_with_the_alternatives(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    with pytest.raises(BadInputError, match=r"\(GLOBAL torch.nn.modules.container.Sequential\).*\(\.pt2\) or "
                                             "export it to ONNX") as err:
        load_model(path)
    assert "\x1b" not in _one_line(err)


def test_a_bare_state_dict_is_not_a_model(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(BadInputError, match="not a sapool checkpoint.*ONNX") as err:
        load_model(path)
    _one_line(err)


def test_a_truncated_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"x": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(BadInputError, match="damaged or truncated zip") as err:
        load_model(path)
    _one_line(err)


def test_a_zip_that_is_no_torch_file(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BadInputError, match="neither a torch.save checkpoint nor a torch.export archive"):
        load_model(path)


def test_an_int8_tflite_passes_through():
    path = shared_model("vww_96_int8")
    loaded = load_model(path)
    assert loaded.kind == "tflite-int8" and loaded.module is None
    assert loaded.tflite == path.read_bytes() and loaded.input_shape == (1, 96, 96, 3)
    assert loaded.graph.tensor(loaded.graph.inputs[0]).dtype == "int8"


def test_a_float_tflite_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "float.tflite"
    path.write_bytes(pack(tiny_float_model()))
    with pytest.raises(UnsupportedError, match=r"float \.tflite.*compile it from its source model \(\.pt/\.onnx\) "
                                               "or quantise it to int8 first") as err:
        load_model(path)
    _one_line(err)
