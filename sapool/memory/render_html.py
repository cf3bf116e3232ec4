"""The memory report as one self-contained HTML page with an SVG memory timeline.

The timeline has op index on x and arena offset on y (growing upwards); each activation buffer is one box
spanning its lifetime, with a hover title naming its tensors and size. When activations are split over several
RAM regions, each region gets its own horizontal band with its own byte scale (so a small region stays legible).
The op at the memory peak is shaded, and a region that overflows shows its capacity as a red dashed line.
Everything (CSS included) is inline and the markup is well-formed XML, so the file opens offline anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from sapool.memory.report import MemoryReport
from sapool.text import printable
from sapool.units import format_bytes

SVG_WIDTH = 960
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 150, 16, 28, 44
PLOT_HEIGHT = 420  # summed over bands, before gaps
MIN_BAND_HEIGHT = 70
BAND_GAP = 28


@dataclass(frozen=True)
class Band:
    """One region's strip of the timeline: where it is drawn and how bytes map to pixels."""

    name: str
    top: float
    height: float
    bytes_shown: int  # the offset drawn at the band's top edge
    used_bytes: int
    size_bytes: int
    base: int

    def y(self, offset: int) -> float:
        """Pixel row of arena `offset` (offset 0 at the band's bottom)."""
        return self.top + self.height - offset * self.height / max(self.bytes_shown, 1)


@dataclass(frozen=True)
class Section:
    """An extra table after the summary (e.g. `sapool compile`'s accuracy and verification): header and rows."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def to_html(report: MemoryReport, sections: tuple[Section, ...] = ()) -> str:
    """The page for `report`; `sections` are drawn as tables between the summary and the timeline."""
    environment = Environment(
        loader=PackageLoader("sapool.memory", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: printable(value) if isinstance(value, str) else value,  # no control chars in XML
    )
    environment.filters["human"] = format_bytes
    template = environment.get_template("report.html.j2")
    return template.render(report=report, svg=timeline(report), where=_output_locations(report),
                           sections=sections)


def timeline(report: MemoryReport) -> dict:
    """Geometry of the SVG timeline as plain numbers and strings, for the template to draw."""
    num_ops = max(len(report.layers), 1)
    column = (SVG_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / num_ops
    bands = _bands(report)
    band_of = {band.name: band for band in bands}
    height = (bands[-1].top + bands[-1].height if bands else MARGIN_TOP) + MARGIN_BOTTOM

    def x(op: float) -> float:
        return MARGIN_LEFT + op * column

    boxes = []
    for buffer in report.buffers:
        band = band_of[buffer.region]
        size = -(-buffer.size_bytes // report.alignment) * report.alignment
        top, bottom = band.y(buffer.offset + size), band.y(buffer.offset)
        boxes.append({
            "x": x(buffer.first), "y": top,
            "width": (buffer.last - buffer.first + 1) * column, "height": max(bottom - top, 1.0),
            "hue": (buffer.id * 137) % 360,
            "title": f"{', '.join(buffer.tensors)}: {buffer.size_bytes:,} B, ops {buffer.first}–{buffer.last}, "
                     f"{buffer.region}:0x{buffer.offset:x} (address 0x{buffer.address:08x})",
        })
    peak = report.peak_layer
    step = 1 if num_ops <= 40 else 5
    return {
        "width": SVG_WIDTH,
        "height": height,
        "left": MARGIN_LEFT,
        "right": SVG_WIDTH - MARGIN_RIGHT,
        "axis_y": height - MARGIN_BOTTOM + 6,
        "bands": [_band_view(band) for band in bands],
        "boxes": boxes,
        "ticks": [{"x": x(op + 0.5), "label": op} for op in range(0, len(report.layers), step)],
        "peak": None if peak is None else {
            "x": x(peak.index), "width": column, "top": MARGIN_TOP - 12, "bottom": height - MARGIN_BOTTOM,
            "label": f"peak: {peak.live_bytes:,} B live at op {peak.index} ({peak.op})",
            **_peak_label_position(x(peak.index), x(peak.index + 1)),
        },
    }


def _peak_label_position(left: float, right: float) -> dict:
    """Label beside the peak column, on whichever side has room for it."""
    if right + 320 <= SVG_WIDTH - MARGIN_RIGHT:
        return {"label_x": right + 4, "anchor": "start"}
    return {"label_x": left - 4, "anchor": "end"}


def _bands(report: MemoryReport) -> list[Band]:
    """Regions that hold buffers (all regions if none do), heights proportional to bytes, never too thin."""
    shown = [r for r in report.regions if r.used_bytes > 0] or list(report.regions[:1])
    total = sum(max(r.used_bytes, 1) for r in shown)
    bands, top = [], float(MARGIN_TOP)
    for region in shown:
        height = max(MIN_BAND_HEIGHT, PLOT_HEIGHT * max(region.used_bytes, 1) / total)
        bytes_shown = max(region.used_bytes, 1)
        bands.append(Band(region.name, top, height, bytes_shown, region.used_bytes, region.size_bytes, region.base))
        top += height + BAND_GAP
    return bands


def _band_view(band: Band) -> dict:
    overflow = band.used_bytes > band.size_bytes
    return {
        "name": band.name,
        "top": band.top,
        "bottom": band.top + band.height,
        "height": band.height,
        "label": f"{band.name} ({format_bytes(band.size_bytes)})",
        "top_label": f"0x{band.used_bytes:x} ({band.used_bytes:,} B)",
        "base_label": f"0x{band.base:08x}",
        "capacity_y": band.y(band.size_bytes) if overflow else None,
    }


def _output_locations(report: MemoryReport) -> dict[int, str]:
    """Layer index → "REGION:0xOFFSET …" for its output buffers, as in the text report."""
    where = {buffer.id: f"{buffer.region}:0x{buffer.offset:05x}" for buffer in report.buffers}
    return {layer.index: " ".join(where[b] for b in layer.output_buffers) for layer in report.layers}
