"""sapool checkpoints through load_model: the shipped network and a pruned one, with what they record."""

from pathlib import Path

import pytest
import torch

from sapool.errors import BadInputError
from sapool.frontends import detect_kind, load_model
from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.train.checkpoint import PRUNED_CHANNELS_KEY, Checkpoint, save_checkpoint
from sapool.prune.channels import prune_model
from sapool.data.transforms import Normalization
from tests.frontends.bad_inputs import MakesADirectoryWhenUnpickled, one_line

SHIPPED = Path(__file__).resolve().parents[2] / "sapool" / "pretrained" / "mcunet_sap_fmnist.pt"
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_the_shipped_checkpoint_loads_with_its_records():
    loaded = load_model(SHIPPED)
    assert loaded.kind == "sapool-checkpoint" and loaded.is_torch
    assert loaded.input_shape == (1, 1, 64, 64)
    assert loaded.class_names == FASHION and loaded.dataset == "fashion-mnist"
    assert loaded.normalization.mean[0] == pytest.approx(0.2860, abs=1e-4)
    assert loaded.normalization.std[0] == pytest.approx(0.3530, abs=1e-4)
    assert not loaded.module.training
    assert loaded.checkpoint.config.pool == "sap-nowin"
    assert "sap-nowin" in loaded.description and "fashion-mnist" in loaded.description
    with torch.no_grad():
        assert loaded.module(torch.zeros(loaded.input_shape)).shape == (1, 10)


def test_a_pruned_checkpoint_loads_with_its_smaller_architecture(tmp_path):
    config = ModelConfig(arch="mcunet", pool="max", downsample="standard", width=0.25, input_size=32)
    torch.manual_seed(0)
    pruned, report = prune_model(build_model(config).eval(), 0.5)
    assert report.channels_after < report.channels_before
    path = tmp_path / "pruned.pt"
    save_checkpoint(Checkpoint(config=config, state_dict=pruned.state_dict(),
                               normalization=Normalization((0.5,), (0.25,)),
                               class_names=tuple(str(i) for i in range(10)), dataset="fashion-mnist",
                               train_args={PRUNED_CHANNELS_KEY: report.channel_record}), path)
    loaded = load_model(path)
    assert loaded.kind == "sapool-checkpoint" and "pruned" in loaded.description
    assert loaded.input_shape == (1, 1, 32, 32)
    params = sum(p.numel() for p in loaded.module.parameters())
    assert params == sum(p.numel() for p in pruned.parameters())
    x = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.module(x), pruned(x))


def test_a_torch_save_with_a_malicious_reduce_never_executes(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"model": MakesADirectoryWhenUnpickled(marker)}, path)
    assert detect_kind(path) == "sapool-checkpoint"
    with pytest.raises(BadInputError, match=r"holds pickled Python objects \(GLOBAL posix.mkdir\), which sapool "
                                             "never unpickles.*torch.export.save") as err:
        load_model(path)
    one_line(err)
    assert not marker.exists()


def test_a_whole_pickled_module_is_refused_with_the_alternatives(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    with pytest.raises(BadInputError, match=r"\(GLOBAL torch.nn.modules.container.Sequential\).*\(\.pt2\) or "
                                             "export it to ONNX") as err:
        load_model(path)
    assert "\x1b" not in one_line(err)


def test_a_bare_state_dict_is_not_a_model(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(BadInputError, match="not a sapool checkpoint.*ONNX") as err:
        load_model(path)
    one_line(err)


@pytest.mark.parametrize("recorded", ["", "/", ".", "..", "~", "folder:/", "npz:."])
def test_a_recorded_data_set_that_names_the_disk_or_the_working_folder_is_not_used(recorded):
    from sapool.frontends.checkpoint import recorded_dataset

    assert recorded_dataset(recorded) is None


def test_recorded_data_sets_of_real_checkpoints_are_used(tmp_path):
    from sapool.frontends.checkpoint import recorded_dataset

    assert recorded_dataset("fashion-mnist") == "fashion-mnist"
    assert recorded_dataset(str(tmp_path / "images")) == str(tmp_path / "images")
