"""Typed op options: what the planner, the MAC counter and the code generators read about an op's attributes.

A TFLite op stores its attributes in one of ~130 "options" tables. The tables sapool interprets (the ones its
kernels and analyses need) become small frozen dataclasses with TFLite's defaults; every other table is kept as
`OtherOptions` (its name and fields, read-only), and an op without a table gets `NoOptions`. Readers produce the
raw fields as {snake_case_field: value} (enums already decoded to names: padding "SAME"/"VALID", activation
"NONE"/"RELU"/"RELU6"/"RELU_N1_TO_1"/"TANH"/…); `typed_options` maps them onto these classes. Padding "EXPLICIT"
with per-side `pads` is no TFLite value: sapool's passes write it when they fold a PAD into a windowed op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class NoOptions:
    """The op has no options table."""


@dataclass(frozen=True)
class OtherOptions:
    """An options table sapool does not interpret, kept for reports: `table` is its schema name."""

    table: str
    fields: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default=None):
        return dict(self.fields).get(key, default)


@dataclass(frozen=True)
class Conv2DOptions:
    padding: str = "SAME"  # "SAME", "VALID", or "EXPLICIT" (sapool's own, see `pads`)
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    activation: str = "NONE"
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # (top, bottom, left, right) when padding is EXPLICIT


@dataclass(frozen=True)
class DepthwiseConv2DOptions:
    padding: str = "SAME"  # "SAME", "VALID", or "EXPLICIT" (sapool's own, see `pads`)
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    depth_multiplier: int = 1
    activation: str = "NONE"
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # (top, bottom, left, right) when padding is EXPLICIT


@dataclass(frozen=True)
class Pool2DOptions:
    padding: str = "SAME"  # "SAME", "VALID", or "EXPLICIT" (sapool's own, see `pads`)
    stride_h: int = 1
    stride_w: int = 1
    filter_h: int = 1
    filter_w: int = 1
    activation: str = "NONE"
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # (top, bottom, left, right) when padding is EXPLICIT


@dataclass(frozen=True)
class FullyConnectedOptions:
    activation: str = "NONE"
    keep_num_dims: bool = False
    weights_format: str = "DEFAULT"


@dataclass(frozen=True)
class ElementwiseOptions:
    """ADD, SUB, MUL, DIV: only a fused activation."""

    activation: str = "NONE"


@dataclass(frozen=True)
class SoftmaxOptions:
    beta: float = 1.0


@dataclass(frozen=True)
class ConcatenationOptions:
    axis: int = 0
    activation: str = "NONE"


@dataclass(frozen=True)
class ReducerOptions:
    """MEAN, SUM, REDUCE_MAX, …; the axes are the op's second input."""

    keep_dims: bool = False


@dataclass(frozen=True)
class ReshapeOptions:
    """`new_shape` is None when the table omits it (the shape is then the op's second input)."""

    new_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class BatchMatMulOptions:
    adj_x: bool = False
    adj_y: bool = False


@dataclass(frozen=True)
class ResizeOptions:
    """RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR."""

    align_corners: bool = False
    half_pixel_centers: bool = False


@dataclass(frozen=True)
class SqueezeOptions:
    squeeze_dims: tuple[int, ...] = ()


OpOptions = (NoOptions | OtherOptions | Conv2DOptions | DepthwiseConv2DOptions | Pool2DOptions
             | FullyConnectedOptions | ElementwiseOptions | SoftmaxOptions | ConcatenationOptions | ReducerOptions
             | ReshapeOptions | BatchMatMulOptions | ResizeOptions | SqueezeOptions)

# TFLite options table → (typed class, {typed field: raw snake_case field where the names differ}).
_RENAMES_CONV = {"dilation_h": "dilation_h_factor", "dilation_w": "dilation_w_factor",
                 "activation": "fused_activation_function"}
_ACTIVATION = {"activation": "fused_activation_function"}
TYPED_TABLES: dict[str, tuple[type, dict[str, str]]] = {
    "Conv2DOptions": (Conv2DOptions, _RENAMES_CONV),
    "DepthwiseConv2DOptions": (DepthwiseConv2DOptions, _RENAMES_CONV),
    "Pool2DOptions": (Pool2DOptions, {"filter_h": "filter_height", "filter_w": "filter_width", **_ACTIVATION}),
    "FullyConnectedOptions": (FullyConnectedOptions, _ACTIVATION),
    "AddOptions": (ElementwiseOptions, _ACTIVATION),
    "SubOptions": (ElementwiseOptions, _ACTIVATION),
    "MulOptions": (ElementwiseOptions, _ACTIVATION),
    "DivOptions": (ElementwiseOptions, _ACTIVATION),
    "SoftmaxOptions": (SoftmaxOptions, {}),
    "ConcatenationOptions": (ConcatenationOptions, _ACTIVATION),
    "ReducerOptions": (ReducerOptions, {}),
    "ReshapeOptions": (ReshapeOptions, {}),
    "BatchMatMulOptions": (BatchMatMulOptions, {}),
    "ResizeNearestNeighborOptions": (ResizeOptions, {}),
    "ResizeBilinearOptions": (ResizeOptions, {}),
    "SqueezeOptions": (SqueezeOptions, {}),
}


def typed_options(table: str, raw: Mapping[str, Any]) -> OpOptions:
    """The typed form of one options table; `table` is the schema name ("Conv2DOptions"), "NONE" for no table.

    Fields the table leaves out keep TFLite's defaults. Vector fields become tuples (an empty or absent
    `new_shape` becomes None).
    """
    if table == "NONE":
        return NoOptions()
    if table not in TYPED_TABLES:
        return OtherOptions(table, tuple((key, _frozen(value)) for key, value in raw.items()))
    cls, renames = TYPED_TABLES[table]
    values = {}
    for field in fields(cls):
        key = renames.get(field.name, field.name)
        if key in raw:
            values[field.name] = _frozen(raw[key])
    if cls is ReshapeOptions and not values.get("new_shape"):
        values["new_shape"] = None
    return cls(**values)


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value
