"""Bad ONNX inputs: each is one error line naming the file (and the node where there is one)."""

import pytest
import torch
from onnx import TensorProto, helper

from sapool.errors import BadInputError, UnsupportedError, VerificationError
from sapool.frontends import load_model
from sapool.frontends.onnx import ops_elementwise, registry
from tests.frontends.bad_inputs import one_line
from tests.frontends.onnx.onnx_graphs import OnnxGraph


def _small_cnn(path):
    g = OnnxGraph([1, 3, 8, 8])
    x = g.node("Conv", ["image", g.weight("w", (4, 3, 3, 3))], "conv", pads=[1, 1, 1, 1])
    x = g.node("Relu", [x], "relu")
    return g.save(path, g.node("GlobalAveragePool", [x], "gap"), [1, 4, 1, 1])


def test_a_truncated_file(tmp_path):
    path = _small_cnn(tmp_path / "model.onnx")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(BadInputError, match="model.onnx: (not a readable|invalid) ONNX model") as err:
        load_model(path)
    one_line(err)


def test_bytes_that_are_not_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\xff\xfe not a protobuf at all " * 10)
    with pytest.raises(BadInputError, match="model.onnx: not"):
        load_model(path)


@pytest.mark.parametrize("op_type, inputs, attributes", [
    ("LSTM", ["image", "w", "r"], {"hidden_size": 4}),
    ("NonMaxSuppression", ["image", "image"], {}),
])
def test_an_unsupported_op_is_named_with_its_node(tmp_path, op_type, inputs, attributes):
    g = OnnxGraph([1, 3, 8], input_name="image")
    g.weight("w", (1, 16, 8))
    g.weight("r", (1, 16, 4))
    path = g.save(tmp_path / "model.onnx", g.node(op_type, inputs, "the_node", **attributes), [1, 3, 8])
    with pytest.raises(UnsupportedError, match=rf"ONNX op {op_type} \(node 'the_node'\) is not supported") as err:
        load_model(path)
    one_line(err)


def test_an_op_from_another_domain_is_named_with_its_domain(tmp_path):
    g = OnnxGraph([1, 4])
    y = g.node("FusedGemm", ["image"], "fused", domain="com.microsoft")
    model = g.model(y, [1, 4], extra_opsets=[("com.microsoft", 1)])
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(UnsupportedError, match=r"ONNX op com.microsoft.FusedGemm \(node 'fused'\)"):
        load_model(path)


def test_a_dynamic_spatial_dimension_is_refused(tmp_path):
    g = OnnxGraph([1, 3, "height", 8])
    path = g.save(tmp_path / "model.onnx", g.node("Relu", ["image"], "relu"), [1, 3, "height", 8])
    with pytest.raises(BadInputError, match="dynamic dimension 2 \\(height\\); export with a fixed input shape"):
        load_model(path)


def test_a_conv_weight_computed_at_run_time_is_refused_naming_the_node(tmp_path):
    g = OnnxGraph([1, 3, 8, 8])
    weight = g.node("Relu", ["image"], "weight_from_data")
    path = g.save(tmp_path / "model.onnx", g.node("Conv", ["image", weight], "data_conv"), [1, 3, 6, 1])
    with pytest.raises(UnsupportedError, match="Conv node 'data_conv': its weight is computed at run time"):
        load_model(path)


def test_a_converter_bug_is_caught_by_the_parity_check(tmp_path, monkeypatch):
    """Make Relu convert wrongly (to a sigmoid): the onnxruntime comparison must refuse the result."""
    monkeypatch.setitem(registry.OP_HANDLERS, "Relu", ops_elementwise.unary(torch.sigmoid))
    with pytest.raises(VerificationError, match=r"differs from onnxruntime by \S+ \(limit 1e-04; first at Relu node "
                                                r"'relu' \(tensor 'relu', \S+\)\): a converter bug"):
        load_model(_small_cnn(tmp_path / "model.onnx"))


def test_two_inputs_are_refused(tmp_path):
    g = OnnxGraph([1, 4])
    model = g.model(g.node("Add", ["image", "other"], "sum"), [1, 4])
    model.graph.input.append(helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 4]))
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(UnsupportedError, match="2 inputs; sapool compiles one-input models"):
        load_model(path)


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/hostname", "sub/../../outside.bin"])
def test_external_data_outside_the_model_folder_is_one_error(tmp_path, location):
    import onnx

    folder = tmp_path / "model"
    folder.mkdir()
    path = _small_cnn(folder / "model.onnx")
    model = onnx.load(str(path))
    weight = model.graph.initializer[0]
    (tmp_path / "outside.bin").write_bytes(weight.raw_data or bytes(4 * 108))
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value=location)
    path.write_bytes(model.SerializeToString())
    with pytest.raises(BadInputError, match="outside the model's folder") as err:
        load_model(path)
    one_line(err)


def test_an_input_of_ten_billion_elements_is_refused_before_anything_is_allocated(tmp_path):
    g = OnnxGraph([1, 1, 100_000, 100_000])
    path = g.save(tmp_path / "huge.onnx", g.node("Relu", ["image"], "relu"), [1, 1, 100_000, 100_000])
    with pytest.raises(UnsupportedError, match="10,000,000,000 elements") as err:
        load_model(path)
    one_line(err)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e38])
def test_weights_that_are_not_finite_or_absurd_are_one_error(tmp_path, bad):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    path = _small_cnn(tmp_path / "model.onnx")
    model = onnx.load(str(path))
    values = numpy_helper.to_array(model.graph.initializer[0]).copy()
    values.flat[0] = bad
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(values.astype(np.float32), model.graph.initializer[0].name))
    path.write_bytes(model.SerializeToString())
    with pytest.raises(BadInputError, match="NaN or infinite|reaches") as err:
        load_model(path)
    one_line(err)


def test_an_input_dimension_declared_zero_is_one_error(tmp_path):
    g = OnnxGraph([0, 1, 4, 4])
    path = g.save(tmp_path / "zero.onnx", g.node("Relu", ["image"], "relu"), [0, 1, 4, 4])
    with pytest.raises(BadInputError, match="declares dimension 0 as 0") as err:
        load_model(path)
    one_line(err)
