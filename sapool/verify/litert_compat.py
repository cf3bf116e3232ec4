"""Harmless metadata that LiteRT refuses and TFLite-Micro accepts, normalised in the bytes handed to LiteRT.

Old converters wrote `quantized_dimension` on per-tensor quantisation (one scale), sometimes naming an axis the
tensor does not have (TFLite-Micro's own person_detect.tflite). With one scale the axis means nothing, and
TFLite-Micro ignores it; LiteRT's interpreter builder checks it against the rank first and refuses the whole model
("quantized_dimension must be in range [0, 2). Was 3."). `normalise_for_litert` sets exactly those fields to 0,
in place in a copy of the bytes (same layout, every other byte unchanged), and names the tensors it changed so
`sapool compile` can say so. TFLite-Micro, the C backend and the exported model keep the user's bytes.
"""

from __future__ import annotations

import struct

QUANTIZED_DIMENSION_SLOT = 16  # vtable offset of QuantizationParameters.quantized_dimension (field 6)


def normalise_for_litert(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """(bytes LiteRT accepts, names of the tensors whose per-tensor quantized_dimension was out of range)."""
    from tflite.Model import Model

    model = Model.GetRootAs(data, 0)
    patched, changed = bytearray(data), []
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for t in range(subgraph.TensorsLength()):
            tensor = subgraph.Tensors(t)
            quantization = tensor.Quantization()
            if quantization is None or quantization.ScaleLength() > 1:
                continue
            axis, rank = quantization.QuantizedDimension(), tensor.ShapeLength()
            if 0 <= axis < max(rank, 1):
                continue
            slot = quantization._tab.Offset(QUANTIZED_DIMENSION_SLOT)
            if slot:
                struct.pack_into("<i", patched, quantization._tab.Pos + slot, 0)
                changed.append((tensor.Name() or b"").decode("utf-8", "replace"))
    return (bytes(patched), tuple(changed)) if changed else (data, ())


def normalisation_note(changed: tuple[str, ...]) -> str:
    """The compile warning for tensors `normalise_for_litert` changed."""
    example = f" (e.g. {changed[0]!r})" if changed[0] else ""
    return (f"{len(changed)} tensor(s){example} carry a quantized_dimension outside their rank on one-scale "
            "quantisation: harmless (TFLite-Micro ignores it), but LiteRT refuses the model, so sapool gives LiteRT "
            "a copy with it set to 0; the exported model keeps your bytes")
