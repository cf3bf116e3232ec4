"""ONNX front end: sapool's own ONNX → torch.fx converter for the common CNN op set, checked against onnxruntime.

Why our own: onnx2torch and its kin import torchvision, whose registry wheels only load with the CUDA build of
torch (DESIGN §8). read → convert (registry.OP_HANDLERS) → parity; see docs/frontends.md.
"""

from __future__ import annotations

from pathlib import Path

from sapool.frontends.loaded import ONNX, LoadedModel, check_weights


def load_onnx(path: Path) -> LoadedModel:
    """Read, convert and check an ONNX model; `parity` is the measured worst difference to onnxruntime."""
    from sapool.frontends.batching import AnyBatch
    from sapool.frontends.onnx.convert import convert
    from sapool.frontends.onnx.parity import parity_with_onnxruntime
    from sapool.frontends.onnx.read import default_opset, input_spec, read_onnx

    model = read_onnx(path)
    spec = input_spec(path, model)
    conversion = convert(path, model, spec)
    check_weights(path, conversion.module)  # before onnxruntime runs it: NaN there reads as a converter bug
    parity = parity_with_onnxruntime(path, model, conversion, spec)
    producer = f", from {model.producer_name}" if model.producer_name else ""
    layout = ", NHWC input taken as NCHW (its Transpose dropped)" if spec.channels_last else ""
    return LoadedModel(
        kind=ONNX,
        path=path,
        module=AnyBatch(conversion.module, spec.module_shape[0]),
        input_shape=spec.module_shape,
        parity=parity,
        description=(f"ONNX model (opset {default_opset(model)}{producer}): {len(model.graph.node)} nodes, "
                     f"input {list(spec.module_shape)}{layout}, float parity vs onnxruntime {parity:.1e}"),
    )
