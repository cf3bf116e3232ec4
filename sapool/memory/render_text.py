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

from sapool.memory.advice import peak_buffers, short_name, suggestions
from sapool.memory.report import MemoryReport
from sapool.text import printable
from sapool.units import format_bytes

WIDTH = 100
PEAK_LINES = 8
HEADERS = ("#", "op", "name", "output shape", "out B", "weights B", "MACs", "live B", "output at")
RIGHT = {0, 4, 5, 6, 7}  # right-aligned columns
NAME_WIDTH = 12  # layer and tensor names, cut from the front (advice.short_name)
UNICODE = {"times": "×", "peak": " ◀", "ellipsis": "…", "rule": "─"}
ASCII = {"times": "x", "peak": " <", "ellipsis": "~", "rule": "-"}


def render(report: MemoryReport, ascii_only: bool = False) -> Group:
    """Rich renderables for a console; `ascii_only` swaps × ◀ … ─ for x < ~ - (a stdout that is not UTF-8)."""
    symbols = ASCII if ascii_only else UNICODE
    return Group(_header(report), _layer_table(report, symbols), _summary_table(report), _advice(report, symbols),
                 _verdict(report))


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
        ("sapool plan: ", "bold"), printable(report.model), " on ", (target, "bold"), budget,
        f"  (planner {report.planner}, alignment {report.alignment} B)",
    )


def _layer_table(report: MemoryReport, symbols: dict[str, str]) -> Text:
    """One line per op, columns padded by hand: a rich Table takes over a second for 1,000 rows.

    Names from the model are shown literally (sapool.text.printable) and a line longer than WIDTH is cut.
    """
    where = {buffer.id: f"{buffer.region}:0x{buffer.offset:05x}" for buffer in report.buffers}
    peak = report.peak_layer
    rows = [HEADERS]
    for buffer in report.buffers:  # the model inputs first: they are live from the start and often the largest
        if buffer.kind == "input":
            rows.append(("in", "", printable(short_name(buffer.tensors[0], NAME_WIDTH, symbols["ellipsis"])), "",
                         f"{buffer.size_bytes:,}", "", "", "", where[buffer.id]))
    for layer in report.layers:
        is_peak = peak is not None and layer.index == peak.index
        rows.append((
            str(layer.index),
            printable(layer.op),
            printable(short_name(layer.name, NAME_WIDTH, symbols["ellipsis"])),
            symbols["times"].join(map(str, layer.output_shape)),
            f"{layer.output_bytes:,}",
            f"{layer.weight_bytes:,}",
            _short_count(layer.macs),
            f"{layer.live_bytes:,}" + (symbols["peak"] if is_peak else " " * len(symbols["peak"])),
            " ".join(where[b] for b in layer.output_buffers) + (" in place" if layer.in_place else "")
            + (f" {layer.patches}" if layer.patches else ""),
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    lines = [_line(row, widths, symbols["ellipsis"]) for row in rows]
    lines.insert(1, " ".join(symbols["rule"] * w for w in widths)[:WIDTH])
    table = Text("\n".join(lines) + "\n", no_wrap=True, overflow="ignore")
    table.stylize("bold", 0, len(lines[0]))
    if peak is not None:
        row = peak.index + 2 + len(rows) - 1 - len(report.layers)  # header, rule and input rows come first
        start = sum(len(line) + 1 for line in lines[:row])
        table.stylize("bold yellow", start, start + len(lines[row]))
    return table


def _line(cells: tuple[str, ...], widths: list[int], ellipsis: str) -> str:
    line = " ".join(cell.rjust(w) if n in RIGHT else cell.ljust(w) for n, (cell, w) in enumerate(zip(cells, widths)))
    line = line.rstrip()
    return line if len(line) <= WIDTH else line[:WIDTH - 1] + ellipsis


def _summary_table(report: MemoryReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    peak = report.peak_layer
    optimal = "proven optimal" if report.proven_optimal else "not proven optimal"
    table.add_row("peak arena", Text(f"{report.peak_arena_bytes:,} B ({format_bytes(report.peak_arena_bytes)})"))
    table.add_row(
        "lower bound",
        Text(f"{report.lower_bound_bytes:,} B, live at layer {peak.index} ({printable(peak.op)})" if peak else "0 B"),
    )
    in_place = [layer.index for layer in report.layers if layer.in_place]
    if in_place:
        table.add_row("in place", Text(f"{len(in_place)} layers write over their input ({_index_list(in_place)}); "
                                       f"every tensor apart{' and no patches' if report.patch_stages else ''} the "
                                       f"bound is {report.tensor_lower_bound_bytes:,} B"))
    for stage in report.patch_stages:
        table.add_row("patches", Text(
            f"layer {stage.layer} runs ops {_index_list(list(stage.ops))} in {stage.grid[0]}x{stage.grid[1]} "
            f"patches (buffers {stage.patch_buffer_bytes[0]:,} + {stage.patch_buffer_bytes[1]:,} B); recompute "
            f"+{stage.extra_macs:,} MACs (+{stage.extra_percent:.1f} % of those ops, "
            f"+{report.extra_macs_percent:.1f} % of the model); without patches the bound "
            f"is {report.unpatched_lower_bound_bytes:,} B"))
    table.add_row("planner", Text(f"{', '.join(report.planners_used) or report.planner} ({optimal})"))
    table.add_row("weights (flash)", Text(_flash_line(report)))
    for region in report.regions:
        state = "ok" if region.fits else "OVER"
        table.add_row(
            f"region {region.name}",
            Text(f"{region.used_bytes:,} / {region.size_bytes:,} B used, "
                 + (f"headroom {region.headroom_bytes:,} B" if region.fits else f"{-region.headroom_bytes:,} B over")
                 + f"  [{state}]"),
        )
    if report.split:
        table.add_row("split", "activations are spread over several regions")
    for note in report.notes:
        table.add_row("note", Text(printable(note)))
    return table


def _advice(report: MemoryReport, symbols: dict[str, str]) -> Text:
    """The tensors live at the peak (largest first, at most PEAK_LINES) and, when it does not fit, what to do."""
    live = peak_buffers(report)
    if not live:
        return Text("")
    lines = [f"live at the peak (layer {report.peak_layer.index}, {report.peak_layer.op}):"]
    lines += [f"  {short_name(b.tensors[0], WIDTH - 40, symbols['ellipsis'])}: {b.size_bytes:,} B"
              + ("" if b.kind == "activation" else f" ({b.kind})") for b in live[:PEAK_LINES]]
    if len(live) > PEAK_LINES:
        rest = sum(b.size_bytes for b in live[PEAK_LINES:])
        lines.append(f"  {len(live) - PEAK_LINES} more buffers: {rest:,} B")
    advice = suggestions(report)
    if advice:
        lines.append("to make it fit:")
        lines += [f"  - {line}".replace(UNICODE["ellipsis"], symbols["ellipsis"]) for line in advice]
    return Text("\n".join(printable(line) for line in lines) + "\n")


def _flash_line(report: MemoryReport) -> str:
    line = f"{report.weights_bytes:,} B ({format_bytes(report.weights_bytes)})"
    if report.flash_size_bytes is None:
        return line
    state = "fits" if report.flash_fits else "DOES NOT FIT"
    return f"{line} of {report.flash_size_bytes:,} B: {state}"


def _verdict(report: MemoryReport) -> Text:
    return Text(printable(report.verdict()), style="bold green" if report.fits else "bold red")


def _index_list(indices: list[int], shown: int = 12) -> str:
    text = ", ".join(map(str, indices[:shown]))
    return text + (f" and {len(indices) - shown} more" if len(indices) > shown else "")


def _short_count(count: int) -> str:
    """7,489,664 → "7.49M": three significant digits keep the column narrow."""
    for suffix, factor in (("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)):
        if count >= factor:
            return f"{count / factor:.3g}{suffix}"
    return str(count)
