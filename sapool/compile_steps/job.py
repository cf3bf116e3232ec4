"""What `sapool compile` was asked (CompileRequest) and what its steps have produced so far (CompileJob)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the types only: the job module stays importable without torch
    import numpy as np

    from sapool.backends.tflm.export import TflmExport
    from sapool.firmware.latency import Latency
    from sapool.frontends.loaded import LoadedModel
    from sapool.ir.graph import Graph
    from sapool.memory.layout import Layout
    from sapool.memory.report import MemoryReport
    from sapool.passes.pipeline import PassEffect
    from sapool.quantize.accuracy import AccuracyReport
    from sapool.quantize.calibration import CalibrationSet
    from sapool.quantize.convert import QuantizedModel
    from sapool.quantize.images import ModelInput
    from sapool.targets import Target
    from sapool.verify.compare import Comparison


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
    rounding: str = "tflm"  # whose FULLY_CONNECTED rounding the firmware matches: TFLite-Micro's or LiteRT's ("tflite")
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
    """The artefacts, filled in step by step; a field is None until its step has run (or when it does not apply).
    pipeline.STEPS says which step reads and which writes each field."""

    request: CompileRequest
    target: Target | None = None
    loaded: LoadedModel | None = None
    model_input: ModelInput | None = None  # input shape and normalisation
    calibration: CalibrationSet | None = None  # float NCHW batches of one image
    quantized: QuantizedModel | None = None
    tflite: bytes | None = None  # the int8 model every later step reads
    graph: Graph | None = None  # of `tflite`
    accuracy: AccuracyReport | None = None
    held_out: tuple[np.ndarray, np.ndarray] | None = None  # (float NCHW images, labels), stored in the project
    verification: dict[str, Comparison] = field(default_factory=dict)  # engine → comparison with TFLite's kernels
    layout: Layout | None = None  # the one plan (sapool.planning.plan_model)
    tflm_layout: Layout | None = None  # TFLite-Micro's offline plan, derived from `layout`
    passes: tuple[PassEffect, ...] = ()  # each graph pass's effect on ops and live bytes (sapool.passes.pipeline)
    report: MemoryReport | None = None
    tflm: TflmExport | None = None
    firmware: dict[str, int] | None = None  # sizes from the ELF and the stack bound, next to the plan
    latency: Latency | None = None  # one traced inference costed for the target's core
    folder: Path | None = None  # the (temporary, then final) output folder
    document: dict[str, Any] | None = None  # report.json, as written
    timings: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    terminal: TextIO | None = None  # where the running step's live display writes (chatter.third_party_output)
