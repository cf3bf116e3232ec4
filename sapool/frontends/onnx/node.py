"""OnnxNode: one ONNX node with decoded attributes, and the errors every op handler raises the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sapool.errors import UnsupportedError


@dataclass(frozen=True)
class OnnxNode:
    op_type: str
    name: str
    attributes: dict[str, Any]  # decoded: ints, floats, str, lists, numpy arrays (tensor attributes)
    outputs: tuple[str, ...]
    opset: int  # the model's default-domain opset; some ops changed inputs/attributes between versions

    @property
    def label(self) -> str:
        return f"{self.op_type} node {self.name!r}"

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)

    def unsupported(self, what: str) -> UnsupportedError:
        """The error for a variant of a supported op that sapool does not convert."""
        return UnsupportedError(f"ONNX {self.label}: {what}")


def decode_attributes(proto_node) -> dict[str, Any]:
    """AttributeProto → Python values (strings decoded, tensors as numpy arrays)."""
    from onnx import helper, numpy_helper

    decoded = {}
    for attribute in proto_node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif hasattr(value, "data_type") and hasattr(value, "dims"):
            value = numpy_helper.to_array(value)
        decoded[attribute.name] = value
    return decoded
