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

from sapool.memory.advice import peak_buffers, short_name, suggestions
from sapool.memory.report import MemoryReport
from sapool.text import printable
from sapool.units import format_bytes

SVG_WIDTH = 960
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 150, 16, 28, 44
PLOT_HEIGHT = 420  # summed over bands, before gaps
MIN_BAND_HEIGHT = 70
BAND_GAP = 28
EMPTY_BAND_HEIGHT = 18
FULL_SCALE_RATIO = 8  # draw a region at full size when its arena fills at least 1/8 of it
LABEL_MIN_WIDTH, LABEL_MIN_HEIGHT = 70, 13  # boxes at least this big (px) carry their tensor's name


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


def to_html(report: MemoryReport, sections: tuple[Section, ...] = (), command: str = "plan",
            lead: tuple[Section, ...] = ()) -> str:
    """The page for `report`; `lead` tables open it (compile's totals), `sections` are drawn between the summary
    and the timeline; `command` names the sapool command in the title ("plan", "compile")."""
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
    return template.render(report=report, svg=timeline(report), where=_output_locations(report), command=command,
                           sections=sections, lead=lead, peak_buffers=peak_buffers(report),
                           suggestions=suggestions(report),
                           short_name=short_name)


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
        width, box_height = (buffer.last - buffer.first + 1) * column, max(bottom - top, 1.0)
        boxes.append({
            "x": x(buffer.first), "y": top, "width": width, "height": box_height,
            **_box_label(buffer, x(buffer.first), top, width, box_height),
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


def _box_label(buffer, x: float, y: float, width: float, height: float) -> dict:
    """A readable label for a big box: size and tensor name, along the box's longer side; none for small boxes."""
    vertical = width < LABEL_MIN_WIDTH
    length, thickness = (height, width) if vertical else (width, height)
    if length < LABEL_MIN_WIDTH or thickness < LABEL_MIN_HEIGHT:
        return {"label": None}
    size = format_bytes(buffer.size_bytes)
    name = short_name(buffer.tensors[0].split("/", 1)[-1], max(int(length / 6) - len(size) - 2, 4))
    if vertical:
        return {"label": f"{size} {name}", "label_x": x + width / 2 + 3, "label_y": y + height - 4, "rotate": True}
    return {"label": f"{size} {name}", "label_x": x + 3, "label_y": y + height / 2 + 3, "rotate": False}


def _peak_label_position(left: float, right: float) -> dict:
    """Label beside the peak column, on whichever side has room for it."""
    if right + 320 <= SVG_WIDTH - MARGIN_RIGHT:
        return {"label_x": right + 4, "anchor": "start"}
    return {"label_x": left - 4, "anchor": "end"}


def _bands(report: MemoryReport) -> list[Band]:
    """Every region, fastest first; a used region's band spans its full size (arena plus headroom) unless the
    arena is under 1/FULL_SCALE_RATIO of it, then its arena, so boxes stay visible. Unused regions are thin."""
    regions = list(report.regions)
    used = [r for r in regions if r.used_bytes > 0]
    total = sum(_shown_bytes(r) for r in used) or 1
    bands, top = [], float(MARGIN_TOP)
    for region in regions:
        if region.used_bytes > 0:
            height = max(MIN_BAND_HEIGHT, PLOT_HEIGHT * _shown_bytes(region) / total)
        else:
            height = EMPTY_BAND_HEIGHT
        bands.append(Band(region.name, top, height, max(_shown_bytes(region), 1), region.used_bytes,
                          region.size_bytes, region.base))
        top += height + BAND_GAP
    return bands


def _shown_bytes(region) -> int:
    """Bytes the band's height stands for: the whole region when the arena is a visible part of it."""
    if region.used_bytes > region.size_bytes or region.used_bytes * FULL_SCALE_RATIO >= region.size_bytes:
        return max(region.used_bytes, region.size_bytes)
    return region.used_bytes


def _band_view(band: Band) -> dict:
    overflow = band.used_bytes > band.size_bytes
    capacity_shown = band.bytes_shown >= band.size_bytes
    headroom = band.size_bytes - band.used_bytes
    return {
        "name": band.name,
        "top": band.top,
        "bottom": band.top + band.height,
        "height": band.height,
        "label": f"{band.name} ({format_bytes(band.size_bytes)})",
        "top_label": f"+{band.bytes_shown:,} B" if band.used_bytes else "unused",
        "base_label": f"0x{band.base:08x}",
        "headroom_label": (f"{-headroom:,} B over" if overflow else f"headroom {headroom:,} B"
                           + ("" if capacity_shown else " (above, not to scale)")) if band.used_bytes else "",
        "used_y": band.y(band.used_bytes) if band.used_bytes else None,
        "capacity_y": band.y(band.size_bytes) if capacity_shown and band.used_bytes else None,
        "overflow": overflow,
    }


def _output_locations(report: MemoryReport) -> dict[int, str]:
    """Layer index → "REGION:0xOFFSET …" for its output buffers, as in the text report."""
    where = {buffer.id: f"{buffer.region}:0x{buffer.offset:05x}" for buffer in report.buffers}
    return {layer.index: " ".join(where[b] for b in layer.output_buffers) for layer in report.layers}
