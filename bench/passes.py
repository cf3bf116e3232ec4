"""The graph passes' measured effects: MobileNetV2's peak before and after fold-pad, and the one rounding answer.

1. A torchvision-style MobileNetV2 (torch `padding=1`; tests/passes/torch_nets.py) at width 0.5 and 0.35, 96×96,
   quantised by sapool: its export carries PAD ops. Planned peak (unbounded region, C kernels' scratch, the
   planning recipe's graph) with every pass but fold-pad, and with all passes; patches off and auto.
2. LiteRT's reference kernels vs TFLite-Micro, share of bit-exact output values on seeded random inputs, for each
   shared model as it is ("before") and with its FULLY_CONNECTED ops as 1×1 CONV_2D ("after", what sapool's own
   export and `--rounding tflm` firmware compute), and for the shipped checkpoint's export (which has them as
   1×1 CONV_2D already).

Run: `PYTHONPATH=. python bench/passes.py` (about 3 minutes on 2 cores); writes bench/results/passes.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import available_models, write_results  # noqa: E402

INPUTS = 200


def mobilenet_peaks(width: float) -> dict:
    import torch

    from sapool.backends.c.prepare import c_kernel_facts
    from sapool.backends.c.registry import scratch_needs
    from sapool.ir.read import read_tflite_bytes
    from sapool.memory.layout import UNBOUNDED, plan_layout
    from sapool.passes.pipeline import PASSES, PassOptions, run_passes
    from sapool.quantize.convert import quantize_to_tflite
    from tests.passes.torch_nets import MobileNetV2

    torch.manual_seed(0)
    module = MobileNetV2(width=width, classes=2).eval()
    calibration = [torch.randn(1, 3, 96, 96) for _ in range(8)]
    graph = read_tflite_bytes(quantize_to_tflite(module, (1, 3, 96, 96), calibration).tflite, f"mobilenetv2-{width}")
    row = {"width": width, "input": [96, 96, 3], "pads": sum(op.opcode == "PAD" for op in graph.ops)}
    every = [step.name for step in PASSES]
    for patches in ("off", "auto"):
        for label, names in (("before", [name for name in every if name != "fold-pad"]), ("after", every)):
            prepared, effects = run_passes(graph, PassOptions(patches=patches), c_kernel_facts(), only=names,
                                           measure=label == "after")
            layout = plan_layout(prepared, (UNBOUNDED,), scratch=scratch_needs(prepared))
            row[f"peak_{label}_patches_{patches}"] = layout.peak_arena_bytes
            if effects and patches == "auto":
                row["pass_effects"] = [effect.to_json() for effect in effects]
    return row


def bit_exact_fraction(content: bytes, inputs) -> float:
    from sapool.verify.interpreters import run_model

    def outputs(engine):
        return np.concatenate([o.reshape(len(o), -1) for o in run_model(content, inputs, engine).all_outputs], 1)

    return float((outputs("litert-ref") == outputs("tflm")).mean())


def rounding_rows() -> list[dict]:
    from sapool.ir.read import read_tflite_bytes
    from sapool.passes.fc_as_conv import lower_fully_connected
    from sapool.verify.samples import random_inputs

    rows = []
    for name, path in available_models():
        content = path.read_bytes()
        inputs = random_inputs(read_tflite_bytes(content, name), INPUTS, seed=0)
        rows.append({"model": name, "fully_connected": lower_fully_connected(content)[1],
                     "before": bit_exact_fraction(content, inputs),
                     "after": bit_exact_fraction(lower_fully_connected(content)[0], inputs)})
    rows.append(shipped_row())
    return rows


def shipped_row() -> dict:
    import sapool
    from sapool.frontends import load_model
    from sapool.ir.read import read_tflite_bytes
    from sapool.quantize.calibration import calibration_batches
    from sapool.quantize.convert import quantize_to_tflite
    from sapool.quantize.images import ModelInput
    from sapool.verify.samples import random_inputs

    loaded = load_model(Path(sapool.__file__).parent / "pretrained" / "mcunet_sap_fmnist.pt")
    calibration = calibration_batches(ModelInput(tuple(loaded.input_shape), loaded.normalization),
                                      recorded_dataset=loaded.dataset, samples=200)
    content = quantize_to_tflite(loaded.module, loaded.input_shape, calibration).tflite
    inputs = random_inputs(read_tflite_bytes(content, "shipped"), INPUTS, seed=0)
    return {"model": "mcunet_sap_fmnist (export)", "fully_connected": 0,
            "before": None,  # the export no longer has FULLY_CONNECTED: 0.7155 measured before fc_as_conv landed
            "after": bit_exact_fraction(content, inputs)}


def main() -> None:
    networks = [mobilenet_peaks(width) for width in (0.5, 0.35)]
    print(f"{'MobileNetV2':<14}{'PADs':>6}{'before (off)':>14}{'after (off)':>13}{'before (auto)':>15}"
          f"{'after (auto)':>14}{'after/before':>14}")
    for row in networks:
        print(f"width {row['width']:<8}{row['pads']:>6}{row['peak_before_patches_off']:>14,}"
              f"{row['peak_after_patches_off']:>13,}{row['peak_before_patches_auto']:>15,}"
              f"{row['peak_after_patches_auto']:>14,}"
              f"{row['peak_after_patches_off'] / row['peak_before_patches_off']:>14.3f}")
    rounding = rounding_rows()
    print(f"\n{'LiteRT ref vs TFLM bit-exact':<32}{'FCs':>5}{'before':>9}{'after':>9}")
    for row in rounding:
        before = "-" if row["before"] is None else f"{row['before']:.4f}"
        print(f"{row['model']:<32}{row['fully_connected']:>5}{before:>9}{row['after']:>9.4f}")
    write_results("passes", {"mobilenet_v2": networks, "rounding": rounding, "inputs": INPUTS})


if __name__ == "__main__":
    main()
