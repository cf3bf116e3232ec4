"""The one layout rule between a torch model's input and its int8 TFLite export's input.

A 4-D input is an image batch: torch takes it N×C×H×W, the export takes it N×H×W×C (litert-torch's
`to_channel_last_io`, so that no TRANSPOSE runs on the MCU). Any other rank (flat N×F features for an MLP, N×L×E
tokens) has no channel axis to move and is the same in both. Every place that hands torch-layout data to the int8
model (calibration, accuracy, verification inputs, stored firmware samples) goes through `to_int8_layout`.
"""

from __future__ import annotations

IMAGE_RANK = 4


def is_image_shape(shape) -> bool:
    return len(tuple(shape)) == IMAGE_RANK


def to_int8_layout(values):
    """`values` (a numpy array or torch tensor in the torch model's layout) in the int8 model's input layout."""
    if values.ndim != IMAGE_RANK:
        return values
    return values.permute(0, 2, 3, 1) if hasattr(values, "permute") else values.transpose(0, 2, 3, 1)


def int8_input_shape(shape) -> tuple[int, ...]:
    """The int8 model's input shape for a torch input of `shape`."""
    shape = tuple(int(size) for size in shape)
    return (shape[0], *shape[2:], shape[1]) if is_image_shape(shape) else shape
