"""The memory report as rich tables: one row per op, then a summary and the verdict.

Laid out to stay readable in 100 columns: sizes are exact bytes with thousands separators, MACs are shortened
(the JSON keeps every exact figure), and the op at the memory peak is marked. `render` gives rich renderables
for a terminal; `to_text` gives the same as plain text for a file.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from sapool.memory.report import MemoryReport
from sapool.units import format_bytes

WIDTH = 100


def render(report: MemoryReport) -> Group:
    return Group(_header(report), _layer_table(report), _summary_table(report), _verdict(report))


def to_text(report: MemoryReport, width: int = WIDTH) -> str:
    """Plain text (no colours), as written by `-o report.txt`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, soft_wrap=False)
    console.print(render(report))
    return buffer.getvalue()


def _header(report: MemoryReport) -> Text:
    target = report.target if report.target_part is None else f"{report.target} ({report.target_part})"
    budget = f", RAM budget {report.ram_budget_bytes:,} B" if report.ram_budget_bytes is not None else ""
    return Text.assemble(
        ("sapool plan: ", "bold"), report.model, " on ", (target, "bold"), budget,
        f"  (planner {report.planner}, alignment {report.alignment} B)",
    )


def _layer_table(report: MemoryReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("op", overflow="fold")
    table.add_column("output shape", overflow="fold")
    table.add_column("out B", justify="right")
    table.add_column("weights B", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("live B", justify="right")
    table.add_column("output at", overflow="fold")
    where = {buffer.id: f"{buffer.region}:0x{buffer.offset:05x}" for buffer in report.buffers}
    peak = report.peak_layer
    for layer in report.layers:
        is_peak = peak is not None and layer.index == peak.index
        cells = (
            str(layer.index),
            layer.op,
            "×".join(map(str, layer.output_shape)),
            f"{layer.output_bytes:,}",
            f"{layer.weight_bytes:,}",
            _short_count(layer.macs),
            f"{layer.live_bytes:,}" + (" ◀" if is_peak else ""),
            " ".join(where[b] for b in layer.output_buffers),
        )
        table.add_row(*map(Text, cells), style="bold yellow" if is_peak else None)
    return table


def _summary_table(report: MemoryReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    peak = report.peak_layer
    optimal = "proven optimal" if report.proven_optimal else "not proven optimal"
    table.add_row("peak arena", f"{report.peak_arena_bytes:,} B ({format_bytes(report.peak_arena_bytes)})")
    table.add_row(
        "lower bound",
        f"{report.lower_bound_bytes:,} B, live at layer {peak.index} ({peak.op})" if peak else "0 B",
    )
    table.add_row("planner", Text(f"{', '.join(report.planners_used) or report.planner} ({optimal})"))
    table.add_row("weights (flash)", Text(_flash_line(report)))
    for region in report.regions:
        state = "ok" if region.fits else "OVER"
        table.add_row(
            f"region {region.name}",
            Text(f"{region.used_bytes:,} / {region.size_bytes:,} B used, headroom {region.headroom_bytes:,} B"
                 f"  [{state}]"),
        )
    if report.split:
        table.add_row("split", "activations are spread over several regions")
    return table


def _flash_line(report: MemoryReport) -> str:
    line = f"{report.weights_bytes:,} B ({format_bytes(report.weights_bytes)})"
    if report.flash_size_bytes is None:
        return line
    state = "fits" if report.flash_fits else "DOES NOT FIT"
    return f"{line} of {report.flash_size_bytes:,} B: {state}"


def _verdict(report: MemoryReport) -> Text:
    return Text(report.verdict(), style="bold green" if report.fits else "bold red")


def _short_count(count: int) -> str:
    """7,489,664 → "7.49M": three significant digits keep the column narrow."""
    for suffix, factor in (("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)):
        if count >= factor:
            return f"{count / factor:.3g}{suffix}"
    return str(count)
