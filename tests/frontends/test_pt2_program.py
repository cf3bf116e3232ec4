""".pt2 archives whose JSON would run code inside torch.export.load: refused as data, before torch reads them.

Each hostile archive is a real export with one JSON member rewritten; the payload would create a canary file.
"""

import json
import zipfile

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends import load_model
from sapool.frontends.pt2_program import check_expression


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x):
        return torch.relu(self.conv(x)).mean(dim=(2, 3))


@pytest.fixture(scope="module")
def dynamic_export(tmp_path_factory):
    """A real export with a dynamic batch: its sizes are `Symbol('s..', positive=True, integer=True)`."""
    path = tmp_path_factory.mktemp("pt2") / "dynamic.pt2"
    program = torch.export.export(Small().eval(), (torch.randn(2, 1, 8, 8),),
                                  dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=8)},))
    torch.export.save(program, path)
    return path


def _rewritten(source, target, member_suffix: str, change) -> None:
    """Copy the archive `source` to `target` with the JSON member ending in `member_suffix` passed through
    `change` (which edits the parsed document in place)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith(member_suffix):
                document = json.loads(data)
                change(document)
                data = json.dumps(document).encode()
            new.writestr(info, data)


def _first_expr(document) -> dict:
    sizes = document["graph_module"]["graph"]["tensor_values"]
    for tensor in sizes.values():
        for size in tensor["sizes"]:
            if "as_expr" in size:
                return size["as_expr"]
    raise AssertionError("no symbolic size in a dynamic-batch export")


def test_the_real_dynamic_batch_export_passes(dynamic_export):
    assert load_model(dynamic_export).input_shape == (1, 1, 8, 8)


def test_an_expression_that_would_run_a_command_is_refused_unevaluated(tmp_path, dynamic_export, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = tmp_path / "hostile.pt2"
    _rewritten(dynamic_export, hostile, "models/model.json", lambda doc: _first_expr(doc).update(
        expr_str="__import__('os').system('touch CANARY') or Symbol('s77', positive=True, integer=True)"))
    with pytest.raises(UnsupportedError, match="never evaluates"):
        load_model(hostile)
    assert not (tmp_path / "CANARY").exists()


def test_an_operator_outside_aten_is_refused(tmp_path, dynamic_export):
    def call_system(document):
        document["graph_module"]["graph"]["nodes"][0]["target"] = "torch.serialization.os.system"

    hostile = tmp_path / "target.pt2"
    _rewritten(dynamic_export, hostile, "models/model.json", call_system)
    with pytest.raises(UnsupportedError, match="not an ATen operator"):
        load_model(hostile)


def test_guard_code_is_refused(tmp_path, dynamic_export):
    hostile = tmp_path / "guards.pt2"
    _rewritten(dynamic_export, hostile, "models/model.json",
               lambda doc: doc.update(guards_code=["__import__('os').system('touch CANARY')"]))
    with pytest.raises(UnsupportedError, match="guard code"):
        load_model(hostile)


@pytest.mark.parametrize("config", [[], "x", {"config": []}, {"config": {"w": 3}}])
def test_a_config_of_the_wrong_json_type_is_one_error(tmp_path, dynamic_export, config):
    hostile = tmp_path / "config.pt2"

    def replace(document):
        document.clear()
        document["replaced"] = config

    with zipfile.ZipFile(dynamic_export) as old, zipfile.ZipFile(hostile, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith("_weights_config.json"):
                data = json.dumps(config).encode()
            new.writestr(info, data)
    with pytest.raises(BadInputError, match="config"):
        load_model(hostile)


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, dynamic_export):
    """2 GiB of zeros deflate to ~2 MB; the declared size refuses it before a byte is inflated."""
    bomb = tmp_path / "bomb.pt2"
    with zipfile.ZipFile(dynamic_export) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info))
        with new.open("dynamic/data/weights/weight_9", "w", force_zip64=True) as stream:
            block = bytes(1 << 24)
            for _ in range(64):  # 1 GiB
                stream.write(block)
    with pytest.raises(BadInputError, match="zip bomb|inflates"):
        load_model(bomb)


@pytest.mark.parametrize("expression", [
    "Symbol('s77', positive=True, integer=True)", "2*s0 + 1", "FloorDiv(s0, 2)", "Max(1, s0) - Min(s1, 3)",
    "Mod(s0, 4) == 0", "CeilToInt(IntTrueDiv(s0, 3))"])
def test_size_expressions_of_real_exports_pass(tmp_path, expression):
    check_expression(tmp_path, expression)


@pytest.mark.parametrize("expression", [
    "__import__('os')", "s0.__class__", "Symbol('a' + 'b')", "9**9**9", "LShift(1, 10**9)", "lambda: 0",
    "[s0]", "{s0: 1}", "s0 if s0 else s1", "exec", "Symbol(\"s0\")", "s0; s1", "", "x" * 5000, 3, None])
def test_anything_else_is_refused(tmp_path, expression):
    with pytest.raises(BadInputError):
        check_expression(tmp_path, expression)
