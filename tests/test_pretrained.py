"""The shipped demo checkpoint (sapool/pretrained/) is what its metrics.json says it is.

It must load with the checkpoint module's loader, reach the recorded test accuracy (0.5 point slack for
float differences between machines) and plan to the recorded int8 peak activation with `sapool plan`'s planner.
"""

import hashlib
import json
from pathlib import Path

import pytest

import sapool

PRETRAINED = Path(sapool.__file__).parent / "pretrained"
CHECKPOINT = PRETRAINED / "mcunet_sap_fmnist.pt"
METRICS = PRETRAINED / "metrics.json"
ACCURACY_SLACK = 0.005  # 0.5 percentage points


@pytest.fixture(scope="module")
def metrics() -> dict:
    return json.loads(METRICS.read_text())


@pytest.fixture(scope="module")
def loaded():
    from sapool.train.checkpoint import load_model

    return load_model(CHECKPOINT)


def test_metrics_describe_this_checkpoint_file(metrics):
    assert metrics["checkpoint"] == CHECKPOINT.name
    assert hashlib.sha256(CHECKPOINT.read_bytes()).hexdigest() == metrics["sha256"]


def test_checkpoint_loads_as_the_recorded_sap_network(loaded, metrics):
    model, checkpoint = loaded
    assert checkpoint.config.to_dict() == metrics["config"]
    assert checkpoint.config.pool in ("sap", "sap-nowin") and checkpoint.config.downsample == "aggressive"
    assert checkpoint.dataset == metrics["dataset"] == "fashion-mnist"
    assert checkpoint.train_args["seed"] == metrics["seed"]
    assert sum(p.numel() for p in model.parameters()) == metrics["params"]


def test_planned_int8_peak_is_as_recorded(loaded, metrics):
    from sapool.models.footprint import int8_peak_activation

    model, checkpoint = loaded
    footprint = int8_peak_activation(model, checkpoint.config)
    assert footprint.peak_arena_bytes == metrics["peak_activation_bytes"]
    assert footprint.macs == metrics["macs"]


@pytest.mark.slow
def test_reaches_recorded_accuracy_on_the_full_test_split(metrics):
    from sapool.data.datasets import FASHION_MNIST_DIR
    from sapool.train.session import run_evaluation

    if not FASHION_MNIST_DIR.is_dir():
        pytest.skip(f"Fashion-MNIST is not installed in {FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)")
    result = run_evaluation(CHECKPOINT, device="cpu")
    assert result["test_images"] == metrics["test_images"] == 10_000
    assert result["test_accuracy"] >= metrics["test_accuracy"] - ACCURACY_SLACK
