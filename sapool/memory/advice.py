"""What to change when a model does not fit: the tensors live at the peak, and concrete next steps.

The report answers "what do I change?" from data it already has: the buffers live during the peak op (by name
and size, largest first) are what a smaller input or fewer channels would shrink, `sapool prune --fit` does the
channel part automatically, and a region large enough for the whole arena says which target would take it as is.
Text, JSON and HTML all show these same lists (report.to_dict, render_text, render_html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sapool.units import format_bytes

if TYPE_CHECKING:
    from sapool.memory.report import BufferRow, MemoryReport


def peak_buffers(report: MemoryReport) -> list[BufferRow]:
    """The buffers live during the peak op, largest first: their sizes add up to that op's live bytes."""
    peak = report.peak_layer
    if peak is None:
        return []
    live = [b for b in report.buffers if b.first <= peak.index <= b.last]
    return sorted(live, key=lambda b: (-b.size_bytes, b.id))


def short_name(name: str, limit: int = 48) -> str:
    """A tensor name short enough for a sentence: converters join fused names with ';', the first one says it;
    a longer one is cut from the front, so the distinguishing tail (`.../block_12/conv2d_3/Relu`) stays."""
    first = name.split(";")[0]
    return first if len(first) <= limit else "…" + first[-(limit - 1):]


def suggestions(report: MemoryReport) -> list[str]:
    """Next steps, most direct first; empty when the model fits."""
    if report.fits:
        return []
    advice = []
    if not report.ram_fits:
        largest = peak_buffers(report)[:2]
        if largest:
            names = " and ".join(f"{short_name(b.tensors[0])} ({b.size_bytes:,} B)" for b in largest)
            advice.append(f"shrink what is live at layer {report.peak_layer.index} ({report.peak_layer.op}): {names}"
                          " - a smaller input resolution or fewer channels there lowers the peak")
        where = f"--fit {report.target}" if report.ram_budget_bytes is None else \
            f"--ram-budget {report.ram_budget_bytes}"
        advice.append(f"if the model came from a sapool checkpoint: `sapool prune CHECKPOINT {where} -o "
                      "pruned.pt` removes channels until the int8 activations fit, then export it again")
        biggest = max(report.regions, key=lambda region: region.size_bytes)
        if report.ram_budget_bytes is None and report.peak_arena_bytes > biggest.size_bytes:
            advice.append(f"the arena needs {format_bytes(report.peak_arena_bytes)} and the largest region here "
                          f"({biggest.name}) has {format_bytes(biggest.size_bytes)}: a target with a larger data "
                          "region (see `sapool targets`) takes it in one piece")
    if report.flash_fits is False:
        advice.append("the weights do not fit the flash: prune channels, or choose a target with more flash")
    return advice
