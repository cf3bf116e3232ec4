"""Front ends: every model file sapool compiles becomes one LoadedModel (sapool.frontends.loaded).

`load_model(path)` dispatches on content and suffix: a sapool checkpoint (.pt), a torch.export archive (.pt2),
an ONNX model (own ONNX → torch.fx converter, checked against onnxruntime) or an int8 .tflite (pass-through).
Importing this package imports neither torch nor onnx; each front end imports them when it runs.
"""

from sapool.frontends.load import detect_kind, load_model
from sapool.frontends.loaded import KINDS, LoadedModel

__all__ = ["KINDS", "LoadedModel", "detect_kind", "load_model"]
