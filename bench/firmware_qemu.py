"""sapool's compiled models as firmware in QEMU vs TFLite-Micro + CMSIS-NN, on the shared MLPerf Tiny models.

For each model on qemu-m7 (Cortex-M7) and qemu-m4 (Cortex-M4F): instructions per inference and per MAC under
`-icount shift=0`, RAM measured from the ELF and the painted stack against the planner's arena, flash, whether
the outputs are bit-exact with TFLite's reference kernels, and the ratio of instructions to TFLite-Micro with
CMSIS-NN (DESIGN.md §7, measured on mps2-an500; the M4 rows are compared with the same M7 figure, the two cores
run the same Thumb-2 code). Targets: bit-exact; measured RAM within 2 % of the plan (ad01, whose whole arena is
768 B, on the arena alone); at most 2x CMSIS-NN's instructions with portable C kernels.
Prints a table, writes bench/results/firmware.json, exits 1 if a target is missed.

    python bench/firmware_qemu.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import available_models, environment, write_results
from rich.console import Console
from rich.table import Table

from sapool.firmware.emulate import emulate

BOARDS = ("qemu-m7", "qemu-m4")
INPUTS = 3
RAM_TOLERANCE = 0.02
CMSIS_NN_RATIO_TARGET = 2.0
ARENA_ONLY_RAM_CHECK = {"ad01_int8"}  # its stack alone is ~20 % of its 768 B arena
# DESIGN.md §7: instructions per inference under TFLite-Micro on mps2-an500 (-icount shift=0).
TFLM_REFERENCE_KERNELS = {"vww_96_int8": 101_222_480, "pretrainedResnet_quant": 108_659_360,
                          "kws_ref_model": 43_614_160, "ad01_int8": 1_949_120}
TFLM_CMSIS_NN = {"vww_96_int8": 24_026_400, "pretrainedResnet_quant": 30_026_480, "kws_ref_model": 7_644_040,
                 "ad01_int8": 583_520}


def measure(name: str, path: Path, board: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="sapool-bench-") as work_dir:
        report = emulate(path, board, Path(work_dir), input_count=INPUTS)
    ram = report.ram
    ram_checked = ram.arena_bytes if name in ARENA_ONLY_RAM_CHECK else ram.measured_bytes
    vs_cmsis = report.instructions_total / TFLM_CMSIS_NN[name]
    return {
        "model": name,
        "board": board,
        "inputs": report.inputs,
        "bit_exact": report.bit_exact,
        "macs": report.macs,
        "instructions": report.instructions_total,
        "instructions_per_mac": round(report.instructions_per_mac, 3),
        "vs_tflm_reference": round(report.instructions_total / TFLM_REFERENCE_KERNELS[name], 3),
        "vs_tflm_cmsis_nn": round(vs_cmsis, 3),
        "ram_planned_bytes": ram.planned_bytes,
        "ram_measured_bytes": ram.measured_bytes,
        "arena_bytes": ram.arena_bytes,
        "static_bytes": ram.static_bytes,
        "stack_bytes": ram.stack_bytes,
        "flash_bytes": report.flash_bytes,
        "ram_within_tolerance": ram_checked <= ram.planned_bytes * (1 + RAM_TOLERANCE),
        "cmsis_nn_target_met": vs_cmsis <= CMSIS_NN_RATIO_TARGET,
    }


def main() -> int:
    rows = [measure(name, path, board) for name, path in available_models() for board in BOARDS]
    table = Table(title=f"Compiled models in QEMU ({INPUTS} inputs each, -icount shift=0)")
    for column in ("model", "board", "bit-exact", "instructions", "instr/MAC", "vs CMSIS-NN", "vs TFLM ref",
                   "RAM planned", "RAM measured", "stack", "flash"):
        table.add_column(column, justify="left" if column in ("model", "board") else "right")
    for row in rows:
        table.add_row(
            row["model"], row["board"], "yes" if row["bit_exact"] else "NO", f"{row['instructions']:,}",
            f"{row['instructions_per_mac']:.2f}", f"{row['vs_tflm_cmsis_nn']:.2f}x", f"{row['vs_tflm_reference']:.2f}x",
            f"{row['ram_planned_bytes']:,}", f"{row['ram_measured_bytes']:,}", f"{row['stack_bytes']:,}",
            f"{row['flash_bytes']:,}",
        )
    Console(width=160).print(table)
    missed = [
        f"{row['model']} on {row['board']}: {what}"
        for row in rows
        for what, met in (("not bit-exact", row["bit_exact"]), ("RAM over the plan by more than 2 %",
                                                                  row["ram_within_tolerance"]),
                          (f"{row['vs_tflm_cmsis_nn']:.2f}x CMSIS-NN's instructions (target "
                           f"<= {CMSIS_NN_RATIO_TARGET:g}x)", row["cmsis_nn_target_met"]))
        if not met
    ]
    for line in missed:
        print(f"target missed: {line}")
    document = {"benchmark": "firmware_qemu", "environment": environment(), "inputs_per_model": INPUTS,
                "targets": {"ram_tolerance": RAM_TOLERANCE, "max_ratio_to_cmsis_nn": CMSIS_NN_RATIO_TARGET},
                "rows": rows, "targets_missed": missed}
    print(f"wrote {write_results('firmware', document)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
