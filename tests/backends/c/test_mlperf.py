"""The four MLPerf Tiny models compiled to C, built on the host with sanitizers, bit-exact with TFLite.

Inputs: the shipped samples where the models README describes some (ad01: all 196 windows of the normal
spectrogram; kws: the one int8 sample plus seeded random inputs), otherwise seeded random int8 inputs.
Each model is generated and built once per session.
"""

from __future__ import annotations

import numpy as np
import pytest

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite
from sapool.targets import Region
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.conftest import MODEL_NAMES, SHARED_MODELS, shared_model

MIN_INPUTS = 10
AD01_INPUT = (0.391015232, 89)  # scale, zero point of ad01's input (models README)


def _ad01_windows() -> np.ndarray:
    """The 196 five-frame windows of the shipped normal spectrogram, quantised as the README says."""
    frames = np.fromfile(SHARED_MODELS / "samples" / "ad01" / "normal_id_01_00000000_hist_librosa.bin", "<f4")
    frames = frames.reshape(200, 128)
    windows = np.stack([frames[i:i + 5].reshape(-1) for i in range(196)])
    scale, zero_point = AD01_INPUT
    return np.clip(np.round(windows / scale) + zero_point, -128, 127).astype(np.int8)


def _inputs(name: str, input_bytes: int) -> np.ndarray:
    shipped = np.zeros((0, input_bytes), np.int8)
    if name == "ad01_int8":
        shipped = _ad01_windows()
    elif name == "kws_ref_model":
        shipped = np.fromfile(SHARED_MODELS / "samples" / "kws01" / "kws_sample0_int8.bin", np.int8)[None]
    missing = max(0, MIN_INPUTS - len(shipped))
    random = np.random.default_rng(7).integers(-128, 128, size=(missing, input_bytes), dtype=np.int8)
    return np.concatenate([shipped, random])


@pytest.fixture(scope="session", params=MODEL_NAMES)
def compiled_model(request, host_build_dir):
    path = shared_model(request.param)
    graph = read_tflite(path)
    layout, files, executable = compile_for_host(graph, host_build_dir / request.param)
    return request.param, path, graph, layout, files, executable


def test_outputs_are_bit_exact_with_tflite_reference_kernels(compiled_model):
    name, path, graph, _, _, executable = compiled_model
    inputs = _inputs(name, graph.tensor(graph.inputs[0]).nbytes)
    expected = reference_outputs(path, inputs)
    outputs = run_host(executable, inputs, expected.shape[1])
    mismatched = int((outputs != expected).any(axis=1).sum())
    assert len(inputs) >= MIN_INPUTS
    assert mismatched == 0, f"{name}: {mismatched} of {len(inputs)} outputs differ from TFLite"


def test_every_kernel_call_uses_the_layout_offsets(compiled_model):
    """Each op's output pointer in model.c is exactly the Layout's slot for that tensor."""
    _, _, _, layout, files, _ = compiled_model
    model_c = files["model/model.c"]
    for op in layout.graph.ops:  # the ops the code runs (vww's first four as one patch stage)
        slot = layout.tensor_slot(op.outputs[0])
        assert f"(sapool_arena_{slot.region} + {slot.offset})" in model_c


def test_model_header_states_the_api_contract(compiled_model):
    _, _, graph, layout, files, _ = compiled_model
    header = files["model/model.h"]
    arena = sum(region.used_bytes for region in layout.regions)
    source, result = graph.tensor(graph.inputs[0]), graph.tensor(graph.outputs[0])
    for line in (f"#define SAPOOL_INPUT_BYTES  {graph.tensor(graph.inputs[0]).nbytes}",
                 f"#define SAPOOL_OUTPUT_BYTES {graph.tensor(graph.outputs[0]).nbytes}",
                 f"#define SAPOOL_NUM_LAYERS   {len(layout.graph.ops)}",
                 f"#define SAPOOL_ARENA_BYTES  {arena}",
                 "#define SAPOOL_MODEL_NUM_INPUTS   1", "#define SAPOOL_MODEL_NUM_OUTPUTS  1",
                 f"#define SAPOOL_MODEL_INPUT0_BYTES       {source.nbytes}",
                 f"#define SAPOOL_MODEL_INPUT0_DIMS        {{ {', '.join(map(str, source.shape))} }}",
                 f"#define SAPOOL_MODEL_INPUT0_ZERO_POINT  {source.quantization.zero_point[0]}",
                 f"#define SAPOOL_MODEL_OUTPUT0_ZERO_POINT  {result.quantization.zero_point[0]}",
                 "int8_t *sapool_model_input(int i);", "int sapool_model_invoke(void);"):
        assert line in header


def test_the_input_pointer_is_the_planned_slot_of_the_input_tensor(compiled_model):
    """Zero copy: sapool_model_input(0) returns the arena address the plan gave the graph input."""
    _, _, graph, layout, files, _ = compiled_model
    slot = layout.tensor_slot(graph.inputs[0])
    assert (f"case 0: return (int8_t *)(void *)(sapool_arena_{slot.region} + {slot.offset});"
            in files["model/model.c"])


def test_a_plan_split_over_two_regions_gets_one_arena_each_and_stays_exact(host_build_dir):
    path = shared_model("kws_ref_model")
    graph = read_tflite(path)
    regions = (Region("FAST", 0x2000_0000, 10 * 1024), Region("SLOW", 0x3000_0000, 10 * 1024))  # 8,000 B activations
    layout, files, executable = compile_for_host(graph, host_build_dir / "kws_split", regions)
    assert layout.fits and layout.placement.split
    model_c = files["model/model.c"]
    for use in layout.regions:
        section = f'__attribute__((section(".bss.sapool_arena.{use.name}")'
        assert f"sapool_arena_{use.name}[{use.used_bytes}] {section}" in model_c
    inputs = _inputs("kws_ref_model", graph.tensor(graph.inputs[0]).nbytes)
    expected = reference_outputs(path, inputs)
    assert (run_host(executable, inputs, expected.shape[1]) == expected).all()


def test_resnet_and_kws_run_with_in_place_layers(compiled_model):
    """The bit-exact test above runs in-place plans: ResNet's convs and ADDs, KWS's depthwise/pointwise stack."""
    name, _, _, layout, _, _ = compiled_model
    if name in ("pretrainedResnet_quant", "kws_ref_model"):
        assert layout.in_place_ops and layout.lower_bound_bytes < layout.tensor_lower_bound_bytes
