"""Shared fixtures. The MLPerf Tiny models live read-only in ../shared/models (CI always has them)."""

import signal
from pathlib import Path

import pytest

SHARED_MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "mlperf_tiny"
MODEL_NAMES = ("vww_96_int8", "pretrainedResnet_quant", "kws_ref_model", "ad01_int8")


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / f"{name}.tflite"
    if not path.is_file():
        pytest.skip(f"shared model {path} not present (../shared/models is absent in this clone)")
    return path


@pytest.fixture(params=MODEL_NAMES)
def mlperf_model(request) -> Path:
    """Each of the four MLPerf Tiny int8 models, skipped where ../shared/models is absent."""
    return shared_model(request.param)


def with_default_sigint() -> None:
    """Popen preexec_fn for tests that send SIGINT: the child starts with SIGINT's default action, so Python
    installs its KeyboardInterrupt handler even where the test run itself ignores SIGINT (a job started with `&`
    from a non-interactive shell inherits SIGINT ignored, and Python then leaves it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
