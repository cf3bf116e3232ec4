"""`sapool compile` of the shipped SAP checkpoint for stm32h7: wall time per step, and float vs int8 accuracy.

Runs the real pipeline (200 calibration images, 1,000 held-out images, firmware built) once into a temporary folder,
prints a table and writes bench/results/compile.json. Target (issue 6): the whole compile under 60 s on 2 cores.
The anchor of the ratios is the whole compile's wall time in the same run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import REPO, environment, write_results

from sapool.compile_steps.job import CompileRequest
from sapool.pipeline import compile_model

SHIPPED = REPO / "sapool" / "pretrained" / "mcunet_sap_fmnist.pt"
TARGET_SECONDS = 60.0


def main() -> int:
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as folder:
        request = CompileRequest(model=SHIPPED, target="stm32h7", output=Path(folder) / "mcunet", quiet=True)
        started = time.perf_counter()
        result = compile_model(request)
        total = time.perf_counter() - started
    document = result.to_dict()
    accuracy = document["accuracy"]
    print(f"sapool compile {SHIPPED.name} --target stm32h7 (200 calibration images, {accuracy['images']} test images)")
    print(f"{'step':<14}{'seconds':>9}{'share':>8}")
    for timing in result.timings:
        print(f"{timing.name:<14}{timing.seconds:>9.2f}{timing.seconds / total:>8.1%}")
    print(f"{'total':<14}{total:>9.2f}{1:>8.1%}")
    print(f"top-1 float {accuracy['float_top1']:.2%}  int8 {accuracy['int8_top1']:.2%}  "
          f"drop {100 * (accuracy['float_top1'] - accuracy['int8_top1']):.2f} points")
    met = total < TARGET_SECONDS
    print(f"target: whole compile < {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'} ({total:.1f} s)")
    write_results("compile", {
        "environment": environment(),
        "model": SHIPPED.name,
        "target": "stm32h7",
        "total_seconds": round(total, 3),
        "target_seconds": TARGET_SECONDS,
        "target_met": met,
        "steps": [{"name": t.name, "seconds": round(t.seconds, 3), "share": round(t.seconds / total, 4)}
                  for t in result.timings],
        "accuracy": {key: accuracy[key] for key in ("float_top1", "int8_top1", "images", "drop_points")},
        "peak_arena_bytes": document["plan"]["peak_arena_bytes"],
        "firmware": document["firmware"],
    })
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
