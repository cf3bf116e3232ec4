"""The writing steps of `sapool compile`: TFLite-Micro export, native C firmware project, build, reports.

They run inside the temporary output folder (job.folder); the pipeline moves it into place only when all of
them succeeded.
"""

from __future__ import annotations

import shutil

from sapool.compile_steps import summary
from sapool.compile_steps.job import CompileJob
from sapool.outputs import write_json_atomically, write_text_atomically


def tflm(job: CompileJob) -> str:
    """model.tflite (with sapool's plan as TFLite-Micro's offline plan) and the tflm/ C arrays and app."""
    from sapool.backends.tflm.export import write_tflm_export

    job.tflm = write_tflm_export(job.tflite, job.graph, job.layout, job.folder,
                                 offline_plan=job.request.offline_plan)
    return f"model.tflite + tflm/ (arena {job.tflm.arena_bytes:,} B for TFLite-Micro on a 32-bit MCU)"


def wants_firmware(job: CompileJob) -> bool:
    return job.request.firmware


def native_c(job: CompileJob) -> str:
    """The generated model C, kernels and the board's firmware files: a project that builds with `make`."""
    from sapool.firmware.compile import write_firmware_project

    files = write_firmware_project(job.folder, job.graph, job.layout, job.target, job.tflite,
                                   ram_budget=job.request.ram_budget, report_text=_report_text(job))
    return f"{len(files)} files: model/, kernels/, firmware/, Makefile"


def can_build(job: CompileJob) -> bool:
    """Build when asked and when arm-none-eabi-gcc is installed (otherwise the project is still written)."""
    if not (job.request.firmware and job.request.build):
        return False
    if shutil.which("arm-none-eabi-gcc") is None:
        job.warnings.append("arm-none-eabi-gcc not found: firmware written but not built "
                            "(apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi)")
        return False
    return True


def build(job: CompileJob) -> str:
    """`make` in the project; a plan that does not fit the part fails here at link time, naming the region."""
    from sapool.firmware.compile import build_and_measure

    job.firmware = build_and_measure(job.folder, job.layout)
    figures = job.firmware
    return (f"flash {figures['flash_bytes']:,} B, static RAM {figures['static_ram_bytes']:,} B "
            f"(arena {figures['arena_bytes']:,} B, planned {job.layout.peak_arena_bytes:,} B)")


def reports(job: CompileJob) -> str:
    from sapool.memory.render_html import to_html

    timings = list(job.timings)
    write_json_atomically(job.folder / "report.json", summary.result_document(job, timings))
    write_text_atomically(job.folder / "report.html", to_html(job.report, summary.html_sections(job, timings)))
    write_text_atomically(job.folder / "report.txt", _report_text(job))
    return "report.json, report.html, report.txt"


def _report_text(job: CompileJob) -> str:
    from sapool.memory.render_text import to_text

    return to_text(job.report)
