"""Shared helpers for the C backend tests: plan → generate → host build, and TFLite's reference outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sapool.backends.c import generate, prepare_for_c, scratch_needs
from sapool.backends.c.host import build_host
from sapool.ir.graph import Graph
from sapool.memory.layout import UNBOUNDED, plan_layout


def compile_for_host(graph: Graph, directory: Path, regions=None, patches: str = "auto", *, prepared: bool = True,
                     rounding: str = "tflm"):
    """(layout, files, executable) for `graph` as `sapool compile` builds it (fused ops, patch stage, in-place
    layers, FULLY_CONNECTED rounded as `rounding` says), planned into `regions` (default: one unbounded region);
    `layout.graph` is the graph the code runs. `prepared=False` runs every op of `graph` with its own kernel (for
    tests of those kernels; FULLY_CONNECTED then rounds as LiteRT's reference kernel)."""
    if prepared:
        graph = prepare_for_c(graph, patches, rounding)
    layout = plan_layout(graph, regions or (UNBOUNDED,), scratch=scratch_needs(graph))
    files = generate(graph, layout)
    return layout, files, build_host(files, directory)


def reference_outputs(model: Path | bytes, inputs: np.ndarray, rounding: str = "tflm") -> np.ndarray:
    """Outputs of TFLite's reference kernels (ai-edge-litert, BUILTIN_REF) for each input, flattened: the oracle of
    `compile_for_host(..., rounding=rounding)` (with "tflm", FULLY_CONNECTED runs as TFLite-Micro rounds it)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from sapool.verify.interpreters import reference_model

    content = reference_model(model if isinstance(model, bytes) else Path(model).read_bytes(), rounding)
    interpreter = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    outputs = []
    for sample in inputs:
        interpreter.set_tensor(input_detail["index"], sample.reshape(input_detail["shape"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_detail["index"]).reshape(-1).copy())
    return np.array(outputs)


@pytest.fixture(scope="session")
def host_build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("c_backend")
