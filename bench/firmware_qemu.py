"""sapool's compiled models as firmware in QEMU vs TFLite-Micro + CMSIS-NN, on the shared MLPerf Tiny models.

For each model on qemu-m7 (Cortex-M7) and qemu-m4 (Cortex-M4F), generated twice (`--kernels
reference`: the portable C kernels; `--kernels arm`: the ACLE SIMD twins in kernels/arm/): instructions per
inference under `-icount shift=0`, the ratio to TFLite-Micro with CMSIS-NN (DESIGN.md §7, measured on mps2-an500;
the M4 rows are compared with the same M7 figure), code size (machine code of the kernels and the generated model,
from the ELF's symbol sizes: weights and the harness not counted) against TFLM + CMSIS-NN's runtime and kernel
code, RAM measured against the plan, flash, whether the outputs are bit-exact with TFLite's reference kernels, and
the latency: cycles of one traced inference costed for the board's core (sapool/firmware/cycle_model.py, its
assumptions in docs/firmware.md) and the milliseconds they take at the clock of each real board with that core.
Every model is built as `sapool emulate` builds it by default (`--patches auto`: a patch-based early stage where
it lowers the peak, passes/patches.py), with the patched layers and their recompute (MACs executed beyond the
model's own); a model that gets a patch stage is measured again with `--patches off`, the RAM and instructions
before patches.
Targets: bit-exact everywhere; with the optimised kernels on qemu-m7 VWW, IC and KWS at most 1.0x CMSIS-NN's
instructions (0.45x is the stretch aim) and VWW's code at most 0.5x TFLM + CMSIS-NN's.
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

from sapool.backends.c import prepare_for_c
from sapool.firmware.elf import function_bytes
from sapool.firmware.emulate import emulate
from sapool.ir.analysis import model_macs
from sapool.ir.read import read_tflite
from sapool.passes.patches import stages
from sapool.targets import get_target, load_targets

BOARDS = ("qemu-m7", "qemu-m4")
KERNEL_SETS = ("reference", "arm")
INPUTS = 3
RAM_TOLERANCE = 0.02  # measured RAM vs the prediction (plan + static + call-graph stack bound), issue 7
INSTRUCTION_TARGET = 1.0  # x TFLM + CMSIS-NN, optimised kernels on qemu-m7
INSTRUCTION_TARGET_MODELS = ("vww_96_int8", "pretrainedResnet_quant", "kws_ref_model")
CODE_TARGET = 0.5  # x TFLM + CMSIS-NN's code, VWW
# DESIGN.md §7: instructions per inference under TFLite-Micro on mps2-an500 (-icount shift=0), and its code.
TFLM_REFERENCE_KERNELS = {"vww_96_int8": 101_222_480, "pretrainedResnet_quant": 108_659_360,
                          "kws_ref_model": 43_614_160, "ad01_int8": 1_949_120}
TFLM_CMSIS_NN = {"vww_96_int8": 24_026_400, "pretrainedResnet_quant": 30_026_480, "kws_ref_model": 7_644_040,
                 "ad01_int8": 583_520}
TFLM_CMSIS_NN_CODE = {"vww_96_int8": 80_552, "pretrainedResnet_quant": 75_216, "kws_ref_model": 80_552,
                      "ad01_int8": 28_136}


def measure(name: str, path: Path, board: str, kernels: str, patches: str = "auto") -> dict:
    with tempfile.TemporaryDirectory(prefix="sapool-bench-") as work_dir:
        report = emulate(path, board, Path(work_dir), input_count=INPUTS, kernels=kernels, patches=patches)
        project = Path(work_dir) / "project"
        sources = {source.name for folder in ("kernels", "model") for source in (project / folder).rglob("*.c")}
        code = function_bytes(Path(work_dir) / "emulation" / "build" / "firmware.elf", sources)
    ram = report.ram
    own_macs = model_macs(read_tflite(path))
    return {
        "model": name, "board": board, "kernels": kernels, "patches": patches,
        "patch_stages": _stage_labels(path, patches),
        "inputs": report.inputs, "bit_exact": report.bit_exact,
        "macs": report.macs, "recompute_macs": report.macs - own_macs,
        "recompute_percent": round(100 * (report.macs - own_macs) / own_macs, 2) if own_macs else 0.0,
        "instructions": report.instructions_total,
        "instructions_per_mac": round(report.instructions_per_mac, 3),
        "vs_tflm_reference": round(report.instructions_total / TFLM_REFERENCE_KERNELS[name], 3),
        "vs_tflm_cmsis_nn": round(report.instructions_total / TFLM_CMSIS_NN[name], 3),
        "code_bytes": code, "code_vs_tflm_cmsis_nn": round(code / TFLM_CMSIS_NN_CODE[name], 3),
        "ram_planned_bytes": ram.planned_bytes, "ram_predicted_bytes": ram.predicted_bytes,
        "ram_measured_bytes": ram.measured_bytes,
        "stack_bytes": ram.stack_bytes, "flash_bytes": report.flash_bytes,
        "ram_within_tolerance": abs(ram.measured_bytes - ram.predicted_bytes) <= ram.predicted_bytes * RAM_TOLERANCE,
        "cycles": report.latency["cycles"],
        "ms_at": _ms_at(board, report.latency["cycles"]),
    }


def _ms_at(board: str, cycles: int) -> dict[str, float]:
    """Milliseconds per inference at each real board's clock whose core is `board`'s (the cycle model costs the
    core; the clock only scales it)."""
    core = get_target(board).core
    return {target.name: round(cycles / target.clock_hz * 1000, 2) for target in load_targets().values()
            if not target.emulated and target.core == core}


def _stage_labels(path: Path, patches: str) -> list[str]:
    """The firmware's patch stages, e.g. "ops 0-3 in 8x8 patches" (the same choice emulate's build makes)."""
    return [f"ops {op.options.ops[0].index}-{op.options.ops[-1].index} in {'x'.join(map(str, op.options.grid))} "
            f"patches" for op in stages(prepare_for_c(read_tflite(path), patches))]


def missed_targets(rows: list[dict]) -> list[str]:
    missed = []
    for row in rows:
        where = f"{row['model']} on {row['board']} ({row['kernels']} kernels, patches {row['patches']})"
        if not row["bit_exact"]:
            missed.append(f"{where}: not bit-exact")
        if not row["ram_within_tolerance"]:
            missed.append(f"{where}: measured RAM off the prediction by more than {RAM_TOLERANCE:.0%}")
        optimised_m7 = row["kernels"] == "arm" and row["board"] == "qemu-m7" and row["patches"] == "auto"
        if optimised_m7 and row["model"] in INSTRUCTION_TARGET_MODELS and row["vs_tflm_cmsis_nn"] > INSTRUCTION_TARGET:
            missed.append(f"{where}: {row['vs_tflm_cmsis_nn']:.2f}x CMSIS-NN's instructions "
                          f"(target <= {INSTRUCTION_TARGET:g}x)")
        if optimised_m7 and row["model"] == "vww_96_int8" and row["code_vs_tflm_cmsis_nn"] > CODE_TARGET:
            missed.append(f"{where}: code {row['code_vs_tflm_cmsis_nn']:.2f}x TFLM + CMSIS-NN's "
                          f"(target <= {CODE_TARGET:g}x)")
    return missed


def main() -> int:
    rows = []
    for name, path in available_models():
        runs = ("auto", "off") if _stage_labels(path, "auto") else ("auto",)
        rows += [measure(name, path, board, kernels, patches) for patches in runs
                 for board in BOARDS for kernels in KERNEL_SETS]
    table = Table(title=f"Compiled models in QEMU ({INPUTS} inputs each, -icount shift=0)")
    for column in ("model", "board", "kernels", "patches", "bit-exact", "instructions", "instr/MAC", "recompute",
                   "vs CMSIS-NN", "code", "vs CMSIS-NN code", "RAM planned", "RAM measured", "stack", "flash",
                   "cycles", "ms per board"):
        table.add_column(column, justify="left" if column in ("model", "board", "kernels", "patches") else "right")
    for row in rows:
        table.add_row(
            row["model"], row["board"], row["kernels"], ", ".join(row["patch_stages"]) or row["patches"],
            "yes" if row["bit_exact"] else "NO",
            f"{row['instructions']:,}", f"{row['instructions_per_mac']:.2f}", f"+{row['recompute_percent']:.1f} %",
            f"{row['vs_tflm_cmsis_nn']:.2f}x",
            f"{row['code_bytes']:,}", f"{row['code_vs_tflm_cmsis_nn']:.2f}x", f"{row['ram_planned_bytes']:,}",
            f"{row['ram_measured_bytes']:,}", f"{row['stack_bytes']:,}", f"{row['flash_bytes']:,}",
            f"{row['cycles']:,}", ", ".join(f"{board} {ms:g}" for board, ms in row["ms_at"].items()),
        )
    Console(width=260).print(table)
    missed = missed_targets(rows)
    for line in missed:
        print(f"target missed: {line}")
    document = {"benchmark": "firmware_qemu", "environment": environment(), "inputs_per_model": INPUTS,
                "targets": {"ram_tolerance": RAM_TOLERANCE, "max_ratio_to_cmsis_nn": INSTRUCTION_TARGET,
                            "max_code_ratio_vww": CODE_TARGET},
                "rows": rows, "targets_missed": missed}
    print(f"wrote {write_results('firmware', document)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
