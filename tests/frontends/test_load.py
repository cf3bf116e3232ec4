"""load_model dispatch and the bad inputs that never get past it: each one error line, nothing unpickled."""

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from sapool.errors import BadInputError
from sapool.frontends import load_model
from tests.frontends.bad_inputs import MakesADirectoryWhenUnpickled, one_line

REPO = Path(__file__).resolve().parents[2]


def test_importing_frontends_imports_neither_torch_nor_onnx():
    code = ("import sys, sapool.frontends; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnx', 'onnxruntime', 'numpy'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "[]"


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="is a directory") as err:
        load_model(tmp_path)
    one_line(err)


@pytest.mark.parametrize("name", ["empty.pt", "empty.onnx", "empty.tflite", "empty.pt2"])
def test_an_empty_file_is_refused(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(BadInputError, match="is empty") as err:
        load_model(tmp_path / name)
    one_line(err)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        load_model(tmp_path / "absent.onnx")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n")
    with pytest.raises(BadInputError, match=r"unknown model file type '.h5'.*\.pt2.*\.onnx") as err:
        load_model(tmp_path / "model.h5")
    one_line(err)


def test_a_raw_pickle_with_a_malicious_reduce_is_refused_unread(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(MakesADirectoryWhenUnpickled(marker)))
    with pytest.raises(BadInputError, match="not a .pt file sapool can read") as err:
        load_model(path)
    one_line(err)
    assert not marker.exists()


def test_a_truncated_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"x": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(BadInputError, match="damaged or truncated zip") as err:
        load_model(path)
    one_line(err)


def test_a_zip_that_is_no_torch_file(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BadInputError, match="neither a torch.save checkpoint nor a torch.export archive"):
        load_model(path)
