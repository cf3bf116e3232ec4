"""write_tflm_export: the files, the C array round trip, the op resolver, and the arena checked against TFLM."""

import re

import numpy as np
import pytest

from sapool.backends.tflm.export import write_tflm_export
from sapool.backends.tflm.offline_plan import read_offline_plan
from sapool.errors import UnsupportedError
from sapool.ir.read import read_tflite_bytes
from sapool.planning import plan_model, tflm_layout
from sapool.targets import get_target
from sapool.verify.interpreters import run_model, smallest_tflm_arena
from tests.conftest import MODEL_NAMES, shared_model
from tests.verify.int8_models import random_inputs, tiny_int8_bytes

HOST_TOLERANCE = 0.05  # predicted host arena within 5 % above the smallest arena that works


def export(tflite: bytes, out_dir, offline_plan=True, name="model"):
    graph = read_tflite_bytes(tflite, name)
    layout = plan_model(graph, get_target("stm32h7"))
    return write_tflm_export(tflite, graph, tflm_layout(graph, layout) if offline_plan else None, out_dir)


def parse_c_array(source: str) -> tuple[bytes, int]:
    body = re.search(r"alignas\(16\) const unsigned char g_model_data\[\] = \{(.*?)\};", source, re.S).group(1)
    length = int(re.search(r"const unsigned int g_model_data_len = (\d+);", source).group(1))
    return bytes(int(token, 16) for token in re.findall(r"0x([0-9a-f]{2})", body)), length


def test_the_files_written(tmp_path):
    result = export(tiny_int8_bytes(), tmp_path / "out")
    names = sorted(str(path.relative_to(tmp_path / "out")) for path in result.files)
    assert names == ["model.tflite", "tflm/Makefile", "tflm/README.md", "tflm/arena_size.h", "tflm/main.cc",
                     "tflm/model_data.cc", "tflm/model_data.h", "tflm/op_resolver.h"]
    assert all(path.is_file() for path in result.files)
    readme = (tmp_path / "out/tflm/README.md").read_text()
    assert "Not compiled in sapool's tests" in readme
    assert "TFLM_DIR" in (tmp_path / "out/tflm/Makefile").read_text()
    header = (tmp_path / "out/tflm/arena_size.h").read_text()
    assert f"kTensorArenaSize = {result.arena_bytes};" in header


def test_c_array_round_trips_byte_for_byte(tmp_path):
    result = export(tiny_int8_bytes(), tmp_path / "out")
    data, length = parse_c_array((tmp_path / "out/tflm/model_data.cc").read_text())
    assert data == result.model_path.read_bytes() and length == len(data)
    assert "extern const unsigned char g_model_data[];" in (tmp_path / "out/tflm/model_data.h").read_text()


def test_c_array_round_trip_on_a_shared_model(tmp_path):
    result = export(shared_model("kws_ref_model").read_bytes(), tmp_path / "out")
    data, length = parse_c_array((tmp_path / "out/tflm/model_data.cc").read_text())
    assert data == result.model_path.read_bytes() and length == len(data)


def test_op_resolver_registers_exactly_the_ops_used(tmp_path):
    export(tiny_int8_bytes(), tmp_path / "out")
    header = (tmp_path / "out/tflm/op_resolver.h").read_text()
    assert re.findall(r"resolver\.(Add\w+)\(\)", header) == ["AddConv2D", "AddReshape", "AddFullyConnected"]
    assert "constexpr unsigned int kNumOps = 3;" in header


def test_an_op_tflm_cannot_register_fails_before_writing(tmp_path):
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.tools.flatbuffer_utils import convert_bytearray_to_object, convert_object_to_bytearray

    model = convert_bytearray_to_object(bytearray(tiny_int8_bytes()))
    model.operatorCodes[1].builtinCode = model.operatorCodes[1].deprecatedBuiltinCode = fb.BuiltinOperator.REVERSE_V2
    with pytest.raises(UnsupportedError, match=r"op 1 \(REVERSE_V2\) has no TFLite-Micro op resolver method"):
        export(bytes(convert_object_to_bytearray(model)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_offline_plan_can_be_left_out(tmp_path):
    with_plan = export(tiny_int8_bytes(), tmp_path / "with")
    without = export(tiny_int8_bytes(), tmp_path / "without", offline_plan=False)
    assert read_offline_plan(with_plan.model_path.read_bytes()) is not None
    assert without.model_path.read_bytes() == tiny_int8_bytes()
    assert without.head_bytes > with_plan.head_bytes  # TFLM's own plan copies the reshape


@pytest.fixture(scope="module")
def shared_exports(tmp_path_factory):
    """Per shared model and offline-plan setting: (export, TFLM's smallest working arena). Bisection is cached."""
    cache = {}

    def get(name, offline_plan):
        if (name, offline_plan) not in cache:
            folder = tmp_path_factory.mktemp(f"{name}-{offline_plan}")
            result = export(shared_model(name).read_bytes(), folder / "out", offline_plan, name)
            cache[name, offline_plan] = result, smallest_tflm_arena(result.model_path)
        return cache[name, offline_plan]

    return get


@pytest.mark.parametrize("offline_plan", [True, False], ids=["offline-plan", "tflm-plan"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_predicted_host_arena_is_enough_and_tight(shared_exports, name, offline_plan):
    result, smallest = shared_exports(name, offline_plan)
    assert smallest <= result.host_arena_bytes <= smallest * (1 + HOST_TOLERANCE)
    graph = read_tflite_bytes(result.model_path.read_bytes(), name)
    inputs = random_inputs(graph.tensor(graph.inputs[0]).shape[1:], 2)
    run_model(result.model_path, inputs, "tflm", arena_size=result.host_arena_bytes)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_offline_plan_shrinks_the_arena_and_keeps_outputs_bit_identical(shared_exports, name):
    planned, planned_arena = shared_exports(name, True)
    own, own_arena = shared_exports(name, False)
    assert planned_arena <= own_arena and planned.head_bytes <= own.head_bytes
    if name == "vww_96_int8":  # the one model where TFLM's greedy plan is not optimal (docs/memory_planner.md)
        assert (own.head_bytes, planned.head_bytes) == (73728, 55296)
        assert own_arena - planned_arena == 73728 - 55296
    graph = read_tflite_bytes(own.model_path.read_bytes(), name)
    inputs = random_inputs(graph.tensor(graph.inputs[0]).shape[1:], 10)
    np.testing.assert_array_equal(run_model(planned.model_path, inputs, "tflm").outputs,
                                  run_model(own.model_path, inputs, "tflm").outputs)
