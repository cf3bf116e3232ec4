"""What to change when a model does not fit: the tensors live at the peak, and concrete next steps.

The report answers "what do I change?" from data it already has: the buffers live during the peak op (by name
and size, largest first) are what a smaller input or fewer channels would shrink; how to shrink them depends on
where the model came from (`MemoryReport.source_kind`): `sapool prune` for a sapool checkpoint, the user's own
model code for a .pt2 or .onnx export, the model it was converted from for an int8 .tflite. When the graph's
inputs or outputs alone exceed the RAM, no plan, patch stage or pruning helps, and the advice says only that.
A region large enough for the whole arena says which target would take it as is.
Text, JSON and HTML all show these same lists (report.to_dict, render_text, render_html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sapool.units import format_bytes

if TYPE_CHECKING:
    from sapool.memory.report import BufferRow, MemoryReport

SAPOOL_CHECKPOINT = "sapool-checkpoint"  # frontends.loaded's kinds (memory/ does not import the front ends)
TFLITE_INT8 = "tflite-int8"


def peak_buffers(report: MemoryReport) -> list[BufferRow]:
    """The buffers live during the peak op, largest first: their sizes add up to that op's live bytes."""
    peak = report.peak_layer
    if peak is None:
        return []
    live = [b for b in report.buffers if b.first <= peak.index <= b.last]
    return sorted(live, key=lambda b: (-b.size_bytes, b.id))


def short_name(name: str, limit: int = 48, ellipsis: str = "…") -> str:
    """A tensor name short enough for a sentence: converters join fused names with ';', the first one says it;
    a longer one is cut from the front, so the distinguishing tail (`.../block_12/conv2d_3/Relu`) stays."""
    first = name.split(";")[0]
    return first if len(first) <= limit else ellipsis + first[-(limit - len(ellipsis)):]


def io_over(report: MemoryReport) -> str | None:
    """A sentence when the graph's inputs (all live before the first op) or outputs (all live after the last)
    alone exceed the largest region: then nothing inside the model can make it fit. None otherwise."""
    largest = max(report.regions, key=lambda region: region.size_bytes, default=None)
    if largest is None:
        return None
    for kind, label in (("input", "input"), ("output", "output")):
        buffers = [b for b in report.buffers if b.kind == kind]
        total = sum(b.size_bytes for b in buffers)
        if buffers and total > largest.size_bytes:
            names = ", ".join(short_name(b.tensors[0]) for b in buffers)
            room = "the budget" if report.ram_budget_bytes is not None else f"{largest.name}, the largest region"
            return (f"the model's {label} alone ({names}: {total:,} B) is larger than the "
                    f"{largest.size_bytes:,} B of {room}: no memory plan or pruning can fit it; give the model a "
                    f"smaller {label} or choose a target with more RAM")
    return None


def shrink_hint(report: MemoryReport) -> str:
    """How to make the model's peak smaller, in the terms of the front end it came through."""
    kind = report.source_kind
    if kind == SAPOOL_CHECKPOINT:
        where = f"--fit {report.target}" if report.ram_budget_bytes is None else \
            f"--ram-budget {report.ram_budget_bytes}"
        return (f"`sapool prune {report.model} {where} -o pruned.pt` removes channels until the int8 "
                "activations fit; compile pruned.pt")
    if kind == TFLITE_INT8:
        return ("the .tflite is already int8: give the layers live at the peak fewer channels or a smaller input in "
                "the model it was converted from and convert it again (from a sapool checkpoint, `sapool prune "
                "CHECKPOINT --fit TARGET` does that)")
    return ("give the layers live at the peak fewer channels, or the model a smaller input, in your model's code "
            "and export it again")


def suggestions(report: MemoryReport) -> list[str]:
    """Next steps, most direct first; empty when the model fits."""
    if report.fits:
        return []
    advice = []
    if not report.ram_fits:
        io = io_over(report)
        if io is not None:
            advice.append(io)
        else:
            largest = peak_buffers(report)[:2]
            if largest:
                names = " and ".join(f"{short_name(b.tensors[0])} ({b.size_bytes:,} B)" for b in largest)
                advice.append(f"shrink what is live at layer {report.peak_layer.index} ({report.peak_layer.op}): "
                              f"{names} - a smaller input resolution or fewer channels there lowers the peak")
            advice.append(shrink_hint(report))
            biggest = max(report.regions, key=lambda region: region.size_bytes)
            if report.ram_budget_bytes is None and report.peak_arena_bytes > biggest.size_bytes:
                advice.append(f"the arena needs {format_bytes(report.peak_arena_bytes)} and the largest region here "
                              f"({biggest.name}) has {format_bytes(biggest.size_bytes)}: a target with a larger "
                              "data region (see `sapool targets`) takes it in one piece")
    if report.flash_fits is False:
        advice.append("the weights do not fit the flash: fewer channels, or a target with more flash")
    return advice
