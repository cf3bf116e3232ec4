"""Where a failed conversion goes wrong: the first ONNX node whose output differs from onnxruntime's.

Only run when the parity check fails, to turn "differs by 3e-01" into a report a maintainer can act on. Every
run-time tensor of the ONNX graph is added as a graph output for onnxruntime, the torch module runs under an fx
Interpreter that keeps every node's value, and the tensors are compared in graph order.
"""

from __future__ import annotations

from sapool.frontends.onnx.read import InputSpec

TracedTensor = tuple[str, str, str]  # (ONNX tensor name, ONNX node label, fx node name)


def first_divergence(model, module, spec: InputSpec, traced: list[TracedTensor], x, limit: float) -> str:
    """" first at Conv node 'conv1' (tensor 'y1', 3.1e-01)" or "" when nothing is found (or the search fails)."""
    import numpy as np
    import onnxruntime
    import torch
    from onnx import TensorProto, helper

    probe = model.__class__()
    probe.CopyFrom(model)
    outputs = {value.name for value in probe.graph.output}
    for name, _, _ in traced:
        if name not in outputs:
            probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    try:
        session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        onnx_input = x.transpose(0, 2, 3, 1) if spec.channels_last else x
        reference = dict(zip(names, session.run(None, {spec.name: onnx_input})))
    except Exception:  # a model whose intermediates onnxruntime cannot expose: keep the parity message as it is
        return ""
    interpreter = torch.fx.Interpreter(module, garbage_collect_values=False)
    with torch.no_grad():
        interpreter.run(torch.from_numpy(x))
    ours = {node.name: value for node, value in interpreter.env.items()}
    for name, label, node_name in traced:
        expected, got = reference.get(name), ours.get(node_name)
        if expected is None or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            continue
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        difference = float(np.max(np.abs(expected - got.numpy()), initial=0.0)) / scale
        if difference > limit:
            return f"; first at {label} (tensor {name!r}, {difference:.1e})"
    return ""
