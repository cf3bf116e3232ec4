"""ir.validate (run by the reader): a structurally broken op is one error naming it, never a traceback later."""

import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.errors import BadInputError
from sapool.ir.analysis import model_macs
from sapool.ir.read import read_tflite_bytes
from sapool.planning import PlanOptions, plan_report
from tests.ir.tflite_models import make_tensor, pack, tiny_float_model


def _model(mutate) -> bytes:
    """tiny_float_model (op 0: CONV_2D [input, filter, bias]; op 1: FULLY_CONNECTED [conv/out, weights, -1])."""
    model = tiny_float_model()
    mutate(model)
    return pack(model)


def _ops(model):
    return model.subgraphs[0].operators


def _add_tensor(model, name, shape):
    model.subgraphs[0].tensors.append(make_tensor(name, shape))
    return len(model.subgraphs[0].tensors) - 1


CASES = {
    "fully-connected-with-one-input": (lambda m: setattr(_ops(m)[1], "inputs", [3]),
                                       "op 1 (FULLY_CONNECTED 'output') has 1 input(s), expected 2 to 3"),
    "conv-with-a-rank-2-filter": (lambda m: setattr(m.subgraphs[0].tensors[1], "shape", [9, 6]),
                                  "op 0 (CONV_2D 'conv/out'): filter (input 1, tensor 1) has rank 2"),
    "conv-without-outputs": (lambda m: setattr(_ops(m)[0], "outputs", []),
                             "op 0 (CONV_2D) has 0 output(s), expected at least 1"),
    "conv-with-its-filter-omitted": (lambda m: setattr(_ops(m)[0], "inputs", [0, -1, 2]),
                                     "op 0 (CONV_2D 'conv/out') omits its filter (input 1), which is required"),
    "conv-with-a-rank-0-input": (lambda m: setattr(_ops(m)[0], "inputs", [_add_tensor(m, "scalar", []), 1, 2]),
                                 "input (input 0, tensor 6) has rank 0"),
    "fully-connected-with-four-inputs": (lambda m: setattr(_ops(m)[1], "inputs", [3, 4, -1, 3]),
                                         "has 4 input(s), expected 2 to 3"),
}


@pytest.mark.parametrize("case", CASES)
def test_malformed_ops_are_named_once_at_read_time(case):
    mutate, message = CASES[case]
    with pytest.raises(BadInputError, match="malformed model") as caught:
        read_tflite_bytes(_model(mutate), "broken.tflite")
    assert str(caught.value).startswith("broken.tflite: ") and message in str(caught.value)


def test_an_omitted_optional_bias_is_fine_and_counted_as_nothing():
    graph = read_tflite_bytes(_model(lambda m: None), "ok")
    assert graph.ops[1].inputs[2] is None
    assert model_macs(graph) == 4 * 4 * 3 * 3 * 3 * 2 + 5 * 48  # conv + fully connected, bias never read
    plan_report(graph, None, PlanOptions(ram_budget=4096), model_name="ok")


def test_unknown_and_custom_ops_are_left_alone():
    def make_custom(model):
        model.operatorCodes[1].builtinCode = model.operatorCodes[1].deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
        model.operatorCodes[1].customCode = "MyOp"
        _ops(model)[1].inputs = [3]

    assert read_tflite_bytes(_model(make_custom), "custom").ops[1].opcode == "CUSTOM:MyOp"
