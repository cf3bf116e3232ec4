"""The memory report's JSON document (schema_version 1, DESIGN §6): the report's figures with the advice.

Kept apart from report.py so that the data model does not depend on the advice written about it (advice.py reads
reports; this module puts the two together).
"""

from __future__ import annotations

from sapool.memory.advice import peak_buffers, suggestions
from sapool.memory.report import SCHEMA_VERSION, MemoryReport
from sapool.outputs import strict_json


def to_dict(report: MemoryReport) -> dict:
    """The JSON document (schema_version 1). Keys listed in DESIGN §6 are stable; the rest may grow."""
    peak = report.peak_layer
    return {
        "schema_version": SCHEMA_VERSION,
        "model": report.model,
        "target": report.target,
        "target_part": report.target_part,
        "ram_budget_bytes": report.ram_budget_bytes,
        "planner": report.planner,
        "planners_used": list(report.planners_used),
        "proven_optimal": report.proven_optimal,
        "alignment": report.alignment,
        "peak_arena_bytes": report.peak_arena_bytes,
        "peak_live_bytes": peak.live_bytes if peak else 0,
        "peak_layer": peak.index if peak else None,
        "lower_bound_bytes": report.lower_bound_bytes,
        "tensor_lower_bound_bytes": report.tensor_lower_bound_bytes,
        "unpatched_lower_bound_bytes": report.unpatched_lower_bound_bytes,
        "extra_macs_percent": round(report.extra_macs_percent, 2),
        "in_place_layers": [layer.index for layer in report.layers if layer.in_place],
        "patch_stages": [
            {"layer": stage.layer, "ops": list(stage.ops), "opcodes": list(stage.opcodes), "grid": list(stage.grid),
             "patch_buffer_bytes": list(stage.patch_buffer_bytes), "macs": stage.macs,
             "patched_macs": stage.patched_macs, "extra_macs": stage.extra_macs,
             "extra_percent": round(stage.extra_percent, 2)}
            for stage in report.patch_stages
        ],
        "fits": report.fits,
        "ram_fits": report.ram_fits,
        "ram_over_bytes": report.ram_over_bytes,
        "source_kind": report.source_kind,
        "split": report.split,
        "verdict": report.verdict(),
        "flash": {
            "weights_bytes": report.weights_bytes,
            "size_bytes": report.flash_size_bytes,
            "fits": report.flash_fits,
        },
        "regions": [
            {
                "name": region.name,
                "base": region.base,
                "size_bytes": region.size_bytes,
                "used_bytes": region.used_bytes,
                "headroom_bytes": region.headroom_bytes,
                "planner": region.planner,
                "proven_optimal": region.proven_optimal,
            }
            for region in report.regions
        ],
        "layers": [
            {
                "index": layer.index,
                "op": layer.op,
                "name": layer.name,
                "output_shape": list(layer.output_shape),
                "output_bytes": layer.output_bytes,
                "weight_bytes": layer.weight_bytes,
                "macs": layer.macs,
                "live_bytes": layer.live_bytes,
                "output_buffers": list(layer.output_buffers),
                "in_place": layer.in_place,
                "patches": layer.patches,
            }
            for layer in report.layers
        ],
        "buffers": [
            {
                "id": buffer.id,
                "kind": buffer.kind,
                "tensors": list(buffer.tensors),
                "size_bytes": buffer.size_bytes,
                "first": buffer.first,
                "last": buffer.last,
                "region": buffer.region,
                "offset": buffer.offset,
                "address": buffer.address,
            }
            for buffer in report.buffers
        ],
        "notes": list(report.notes),
        "peak_tensors": [
            {"tensors": list(buffer.tensors), "size_bytes": buffer.size_bytes, "kind": buffer.kind,
             "region": buffer.region, "offset": buffer.offset}
            for buffer in peak_buffers(report)
        ],
        "suggestions": suggestions(report),
        "elapsed_s": round(report.elapsed_s, 4),
    }


def to_json(report: MemoryReport) -> str:
    return strict_json(to_dict(report)) + "\n"
