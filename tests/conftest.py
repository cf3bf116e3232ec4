"""Shared fixtures. The MLPerf Tiny models live read-only in ../shared/models (CI always has them)."""

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
