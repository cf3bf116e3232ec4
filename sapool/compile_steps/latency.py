"""`sapool compile`'s latency step: the built project traced for one inference in QEMU and costed per layer for
the target's core at its clock (sapool.firmware.latency; the cycle model's assumptions go into the report).

The project is linked a second time, in a scratch folder, for the QEMU board of the target's core (the build
step's objects are copied there first, so make only relinks them with the QEMU memory map: the target's RAM regions
laid out in the board's RAM), so nothing is added to the output folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sapool.compile_steps.job import CompileJob


def can_trace(job: CompileJob) -> bool:
    """After a successful build, when qemu-system-arm is installed (otherwise say so once)."""
    return bool(job.firmware) and shutil.which("qemu-system-arm") is not None


def no_emulator(job: CompileJob) -> str | None:
    """Why the latency step is skipped after a build."""
    if job.firmware:
        return "qemu-system-arm not found: no latency figure (apt-get install -y qemu-system-arm)"
    return None


def trace(job: CompileJob) -> str:
    """The latency figure; when the QEMU board of the core cannot run this model (its RAM is smaller than the
    part's, the run fails), a warning instead: the firmware itself was built and is unaffected."""
    from sapool.compile_steps.inputs import verification_inputs
    from sapool.errors import BuildError, DoesNotFitError, VerificationError
    from sapool.firmware.latency import measure_latency
    from sapool.memory.analyze import regions_for
    from sapool.verify.packing import pack

    first = pack([array[:1] for array in verification_inputs(job)])[0].tobytes()
    try:
        with tempfile.TemporaryDirectory(prefix="sapool-latency-") as scratch:
            shutil.copytree(job.folder / "build", Path(scratch) / "build")  # keeps times: the objects are up to date
            job.latency = measure_latency(job.folder, job.target, regions_for(job.target, job.request.ram_budget),
                                          first, len(job.layout.graph.ops), Path(scratch))
    except (BuildError, DoesNotFitError, VerificationError) as error:
        reason = str(error).splitlines()[0]
        job.warnings.append(f"no latency figure: the traced QEMU run failed ({reason})")
        return f"not measured: {reason}"
    latency = job.latency
    return f"{latency.cycles:,} cycles = {latency.ms:.2f} ms at {latency.clock_hz / 1e6:g} MHz ({latency.core} model)"
