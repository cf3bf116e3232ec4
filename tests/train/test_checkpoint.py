"""Checkpoints: self-describing round trip, atomic writes, and one clear error for anything foreign or damaged."""

import collections
import pickle

import pytest
import torch

from sapool.errors import BadInputError
from sapool.models.config import ModelConfig
from sapool.train.checkpoint import Checkpoint, load_checkpoint, load_model, save_checkpoint
from sapool.data.transforms import Normalization

SMALL = ModelConfig(arch="mcunet", pool="max", downsample="standard", width=0.25, input_size=32)


def _checkpoint(state_dict=None, **changes) -> Checkpoint:
    fields = dict(
        config=SMALL,
        state_dict=state_dict if state_dict is not None else {"w": torch.arange(6.0).view(2, 3)},
        normalization=Normalization((0.286,), (0.353,)),
        class_names=tuple(f"class {i}" for i in range(10)),
        dataset="fashion-mnist",
        metrics={"test_accuracy": 0.75, "history": [{"epoch": 1, "test_accuracy": 0.75}]},
        train_args={"lr": 0.05, "optimizer": "sgd", "batch_size": 64, "seed": 3, "data": "fashion-mnist"},
        training_state={"epoch": 1, "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0]}]}},
    )
    fields.update(changes)
    return Checkpoint(**fields)


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(), path)
    loaded = load_checkpoint(path)
    assert loaded.config == SMALL
    assert torch.equal(loaded.state_dict["w"], torch.arange(6.0).view(2, 3))
    assert loaded.normalization == Normalization((0.286,), (0.353,))
    assert loaded.class_names[3] == "class 3" and loaded.dataset == "fashion-mnist"
    assert loaded.metrics["history"][0]["epoch"] == 1
    assert loaded.train_args["seed"] == 3 and loaded.training_state["epoch"] == 1


def test_checkpoint_is_a_plain_dict_that_loads_without_pickled_code(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(), path)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "sapool-checkpoint" and raw["version"] == 1
    assert raw["config"] == SMALL.to_dict()
    assert raw["normalization"] == {"mean": [0.286], "std": [0.353]}


def test_failed_save_leaves_the_old_file_and_no_temporary_files(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(), path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        save_checkpoint(_checkpoint(metrics={"unpicklable": lambda: None}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_save_into_a_missing_folder_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="output folder does not exist"):
        save_checkpoint(_checkpoint(), tmp_path / "nowhere" / "model.pt")


class _Foreign:
    pass


def _write_foreign(path, kind):
    if kind == "random bytes":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "state_dict only":
        torch.save(collections.OrderedDict(w=torch.zeros(2)), path)
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "pickled object":
        path.write_bytes(pickle.dumps(_Foreign()))
    elif kind == "torch-saved object":
        torch.save({"format": "sapool-checkpoint", "obj": _Foreign()}, path)
    elif kind == "text":
        path.write_text("hello\n")


@pytest.mark.parametrize(
    "kind", ["random bytes", "state_dict only", "tensor", "pickled object", "torch-saved object", "text"]
)
def test_foreign_files_are_rejected_in_one_line(tmp_path, kind):
    path = tmp_path / "foreign.pt"
    _write_foreign(path, kind)
    with pytest.raises(BadInputError) as caught:
        load_checkpoint(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_truncated_checkpoint_is_rejected(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(), path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(BadInputError, match="not a readable torch checkpoint"):
        load_checkpoint(path)


def test_other_versions_and_damaged_entries_are_rejected(tmp_path):
    path = tmp_path / "model.pt"
    raw = _checkpoint().to_dict()
    torch.save({**raw, "version": 99}, path)
    with pytest.raises(BadInputError, match="version 99"):
        load_checkpoint(path)
    torch.save({k: v for k, v in raw.items() if k != "normalization"}, path)
    with pytest.raises(BadInputError, match="damaged"):
        load_checkpoint(path)
    torch.save({**raw, "config": {**raw["config"], "pool": "median"}}, path)
    with pytest.raises(BadInputError, match="pool must be one of"):
        load_checkpoint(path)
    with pytest.raises(BadInputError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_load_model_rebuilds_the_same_network(tmp_path):
    from sapool.models.build import build_model

    torch.manual_seed(0)
    model = build_model(SMALL).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(state_dict=model.state_dict()), path)
    restored, checkpoint = load_model(path)
    images = torch.randn(3, 1, 32, 32)
    assert not restored.training
    assert torch.equal(restored(images), model(images))
    assert checkpoint.config == SMALL


def test_weights_that_do_not_fit_the_config_are_rejected(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(state_dict={"w": torch.zeros(1)}), path)
    with pytest.raises(BadInputError, match="do not match its model config"):
        load_model(path)


@pytest.mark.parametrize("changes, message", [
    ({"class_names": ("a", "b", "c")}, "3 class names for a model of 10 classes"),
    ({"normalization": Normalization((0.5,), (-0.3,))}, "must be positive"),
    ({"normalization": Normalization((0.5,), (1e-300,))}, "must be positive"),
    ({"normalization": Normalization((float("nan"),), (0.3,))}, "finite"),
    ({"normalization": Normalization((0.5, 0.5, 0.5), (0.3, 0.3, 0.3))}, "is not 1 finite"),
    ({"state_dict": {"w": torch.tensor([1.0, float("inf")])}}, "NaN or infinite"),
])
def test_entries_that_disagree_or_cannot_be_used_are_refused(tmp_path, changes, message):
    path = tmp_path / "model.pt"
    save_checkpoint(_checkpoint(**changes), path)
    with pytest.raises(BadInputError, match=message):
        load_checkpoint(path)


def test_a_zip_bomb_checkpoint_is_refused_by_its_declared_size(tmp_path):
    import zipfile

    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("bomb/data.pkl", "w", force_zip64=True) as stream:
        for _ in range(16):  # 256 MiB of zeros in a few hundred KB
            stream.write(bytes(1 << 24))
    with pytest.raises(BadInputError, match="zip bomb"):
        load_checkpoint(path)
