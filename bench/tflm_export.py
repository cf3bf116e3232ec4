"""The TFLite-Micro export on the shared MLPerf Tiny models: arena predicted vs real, offline plan vs TFLM's own,
and TFLM's outputs vs TFLite's reference kernels.

For each model, exported for stm32h7 with and without sapool's offline plan:
- the arena sapool predicts for TFLM's Python interpreter on this 64-bit host vs the smallest arena that works
  (bisection with the interpreter itself); target: enough, and at most 5 % more;
- the 32-bit figure written to arena_size.h, and head + tail (no start-up term, no margin) next to the arena
  DESIGN §7 measured for TFLM on a Cortex-M7 in QEMU (TFLM's own plan);
- outputs of litert-ref (BUILTIN_REF) vs tflm on 200 seeded random inputs (plus the shipped real samples of
  ad01 and kws): bit-exact elements, max LSB difference, where they first diverge.
Prints a table, writes bench/results/tflm_export.json, exits 1 if a target is missed.

    python bench/tflm_export.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from common import SHARED_MODELS, available_models, environment, write_results
from rich.console import Console
from rich.table import Table

from sapool.backends.tflm.arena import MCU_32, estimate_arena
from sapool.backends.tflm.export import write_tflm_export
from sapool.ir.read import read_tflite_bytes
from sapool.planning import plan_model, tflm_layout
from sapool.targets import get_target
from sapool.verify.compare import compare_outputs
from sapool.verify.interpreters import run_model, smallest_tflm_arena

RANDOM_INPUTS = 200
HOST_TOLERANCE = 0.05
M7_ARENA_BYTES = {  # DESIGN §7: TFLite-Micro on Cortex-M7 (QEMU mps2-an500), its own plan
    "vww_96_int8": 100_708, "pretrainedResnet_quant": 54_996, "kws_ref_model": 22_820, "ad01_int8": 2_580}


def inputs_for(name: str, graph) -> np.ndarray:
    source = graph.tensor(graph.inputs[0])
    batch = [np.random.default_rng(0).integers(-128, 128, (RANDOM_INPUTS, *source.shape[1:]), dtype=np.int8)]
    if name == "kws_ref_model":
        sample = SHARED_MODELS / "samples/kws01/kws_sample0_int8.bin"
        batch.append(np.fromfile(sample, np.int8).reshape(1, *source.shape[1:]))
    if name == "ad01_int8":  # 200 frames x 128 float32 log-mel bins; windows of 5 frames sliding by one
        frames = np.fromfile(SHARED_MODELS / "samples/ad01/normal_id_01_00000000_hist_librosa.bin", "<f4")
        frames = frames.reshape(200, 128)
        windows = np.stack([frames[i:i + 5].reshape(-1) for i in range(196)])
        scale, zero_point = source.quantization.scale[0], source.quantization.zero_point[0]
        batch.append(np.clip(np.round(windows / scale) + zero_point, -128, 127).astype(np.int8))
    return np.concatenate(batch)


def measure(name: str, path: Path) -> dict:
    data = path.read_bytes()
    graph = read_tflite_bytes(data, name)
    offline = tflm_layout(graph, plan_model(graph, get_target("stm32h7")))
    row = {"model": name}
    with tempfile.TemporaryDirectory() as folder:
        for label, embed in (("offline_plan", True), ("tflm_plan", False)):
            result = write_tflm_export(data, graph, offline if embed else None, Path(folder) / label)
            smallest = smallest_tflm_arena(result.model_path)
            mcu = estimate_arena(graph, result.head_bytes, len(graph.activations()), MCU_32)
            row[label] = {
                "head_bytes": result.head_bytes,
                "host_predicted_bytes": result.host_arena_bytes,
                "host_bisected_bytes": smallest,
                "host_ratio": round(result.host_arena_bytes / smallest, 4),
                "mcu_arena_size_h_bytes": result.arena_bytes,
                "mcu_head_plus_tail_bytes": mcu.head_bytes + mcu.tail_bytes,
            }
        inputs = inputs_for(name, graph)
        reference = run_model(path, inputs, "litert-ref", intermediates=True)
        micro = run_model(Path(folder) / "offline_plan/model.tflite", inputs, "tflm", intermediates=True)
    comparison = compare_outputs(reference.outputs, micro.outputs, graph=graph,
                                 intermediates=(reference.intermediates, micro.intermediates))
    row["m7_design_arena_bytes"] = M7_ARENA_BYTES.get(name)
    row["verify"] = {"inputs": len(inputs), **comparison.to_json()}
    row["targets"] = {
        "host_prediction_enough_and_within_5pct": all(
            row[k]["host_bisected_bytes"] <= row[k]["host_predicted_bytes"]
            <= row[k]["host_bisected_bytes"] * (1 + HOST_TOLERANCE) for k in ("offline_plan", "tflm_plan")),
        "offline_plan_not_larger": row["offline_plan"]["host_bisected_bytes"] <= row["tflm_plan"]["host_bisected_bytes"],
    }
    return row


def print_table(rows: list[dict]) -> None:
    console = Console(width=160)
    table = Table(title="TFLite-Micro export: arena (bytes) and TFLM vs reference kernels")
    for column in ("model", "TFLM head", "sapool head", "host bisected own/offline", "host predicted own/offline",
                   "arena_size.h own/offline", "M7 (DESIGN §7) / our 32-bit head+tail", "bit-exact", "max LSB"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        own, planned, verify = row["tflm_plan"], row["offline_plan"], row["verify"]
        table.add_row(
            row["model"], f"{own['head_bytes']:,}", f"{planned['head_bytes']:,}",
            f"{own['host_bisected_bytes']:,} / {planned['host_bisected_bytes']:,}",
            f"{own['host_predicted_bytes']:,} / {planned['host_predicted_bytes']:,}",
            f"{own['mcu_arena_size_h_bytes']:,} / {planned['mcu_arena_size_h_bytes']:,}",
            f"{row['m7_design_arena_bytes'] or 0:,} / {own['mcu_head_plus_tail_bytes']:,}",
            f"{verify['bit_exact']:,}/{verify['total']:,}", str(verify["max_lsb_diff"]))
    console.print(table)
    for row in rows:
        if row["verify"]["note"]:
            console.print(f"{row['model']}: {row['verify']['note']}")


def main() -> int:
    rows = [measure(name, path) for name, path in available_models()]
    if not rows:
        print("no models found: nothing measured", file=sys.stderr)
        return 0
    print_table(rows)
    missed = [row["model"] for row in rows if not all(row["targets"].values())]
    document = {"schema_version": 1, "benchmark": "tflm_export", "environment": environment(),
                "targets": {"host_tolerance": HOST_TOLERANCE, "missed": missed}, "models": rows}
    print(f"wrote {write_results('tflm_export', document)}")
    if missed:
        print(f"targets missed on: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
