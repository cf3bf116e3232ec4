"""What `sapool compile` was asked (CompileRequest) and what its steps have produced so far (CompileJob)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CompileRequest:
    """The user's request, as the CLI parsed it. `calib` is a data path, "random", or None (the recorded data).
    `target` and `output` are None when only the front steps run (`sapool validate`, pipeline.run_steps)."""

    model: Path
    target: str | None
    output: Path | None
    force: bool = False
    ram_budget: int | None = None
    planner: str = "best"
    patches: str = "auto"  # "auto": a patch-based early stage where it lowers the peak (C backend); "off"
    calib: str | None = None
    calib_samples: int = 200
    calib_mean: tuple[float, ...] | None = None
    calib_std: tuple[float, ...] | None = None
    eval_data: str | None = None
    eval_samples: int = 1000
    verify_samples: int = 10
    offline_plan: bool = True
    firmware: bool = True
    build: bool = True
    kernels: str | None = None  # "arm" or "reference" for the firmware project; None: the core's default
    quiet: bool = False
    verbose: bool = False  # also show third-party output (torch, torchao, LiteRT's absl/oneDNN lines)


@dataclass
class CompileJob:
    """The artefacts, filled in step by step; a field is None until its step has run (or when it does not apply)."""

    request: CompileRequest
    target: Any = None  # sapool.targets.Target
    loaded: Any = None  # sapool.frontends.LoadedModel
    model_input: Any = None  # sapool.quantize.images.ModelInput: input shape and normalisation
    calibration: Any = None  # sapool.quantize.calibration.CalibrationSet (float NCHW batches of one image)
    quantized: Any = None  # sapool.quantize.convert.QuantizedModel
    tflite: bytes | None = None  # the int8 model every later step reads
    graph: Any = None  # sapool.ir.graph.Graph of `tflite`
    accuracy: Any = None  # sapool.quantize.accuracy.AccuracyReport
    held_out: Any = None  # (float NCHW images, labels): the first of the accuracy step's, stored in the project
    verification: dict[str, Any] = field(default_factory=dict)  # engine → sapool.verify.compare.Comparison
    layout: Any = None  # sapool.memory.layout.Layout: the one plan (sapool.planning.plan_model)
    tflm_layout: Any = None  # sapool.memory.layout.Layout: TFLite-Micro's offline plan, derived from `layout`
    report: Any = None  # sapool.memory.report.MemoryReport
    tflm: Any = None  # sapool.backends.tflm.export.TflmExport
    firmware: Any = None  # what the native C backend and the build produced
    latency: Any = None  # sapool.firmware.latency.Latency: one traced inference costed for the target's core
    folder: Path | None = None  # the (temporary, then final) output folder
    document: dict[str, Any] | None = None  # report.json, as written
    timings: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    terminal: Any = None  # where the running step's live display writes (chatter.third_party_output)
