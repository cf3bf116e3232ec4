"""torch.export archives (.pt2): a user CNN loads and computes what it computed; unsafe archives are refused."""

import zipfile

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends import load_model


class UserCnn(nn.Module):
    """Not a sapool network: conv/BN/ReLU, a residual add, max pool, global average, linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.branch = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        x = self.stem(x)
        x = nn.functional.max_pool2d(x + self.branch(x), 2)
        return self.head(x.mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def user_cnn():
    torch.manual_seed(0)
    model = UserCnn().eval()
    with torch.no_grad():
        model.stem[1].running_mean.uniform_(-0.5, 0.5)
        model.stem[1].running_var.uniform_(0.5, 1.5)
    return model


def _export(model, path, dynamic_batch=False):
    example = (torch.randn(2 if dynamic_batch else 1, 3, 16, 16),)  # torch specialises a batch of 1
    shapes = ({0: torch.export.Dim("batch", min=1, max=8)},) if dynamic_batch else None
    torch.export.save(torch.export.export(model, example, dynamic_shapes=shapes), path)
    return path


def test_an_exported_user_cnn_loads_and_matches_the_original(tmp_path, user_cnn):
    loaded = load_model(_export(user_cnn, tmp_path / "user.pt2"))
    assert loaded.kind == "torch-export" and loaded.input_shape == (1, 3, 16, 16)
    assert loaded.normalization is None and loaded.class_names is None and loaded.parity is None
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), user_cnn(x), rtol=0, atol=1e-6)


def test_the_module_takes_eval_and_re_export_like_an_eager_one(tmp_path, user_cnn):
    """What the quantiser does with it: read `training`, call eval()/train(False), export it again."""
    loaded = load_model(_export(user_cnn, tmp_path / "user.pt2"))
    assert loaded.module.training is False
    loaded.module.eval()
    loaded.module.train(False)
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    program = torch.export.export(loaded.module, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), user_cnn(x), rtol=0, atol=1e-6)


def test_a_model_exported_in_training_mode_is_loaded_in_inference_form(tmp_path):
    torch.manual_seed(1)
    model = UserCnn()
    with torch.no_grad():
        model.stem[1].running_mean.uniform_(-0.5, 0.5)
    loaded = load_model(_export(model.train(), tmp_path / "train_mode.pt2"))
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), model.eval()(x), rtol=0, atol=1e-6)


def test_a_dynamic_batch_becomes_one(tmp_path, user_cnn):
    loaded = load_model(_export(user_cnn, tmp_path / "dynamic.pt2", dynamic_batch=True))
    assert loaded.input_shape == (1, 3, 16, 16)
    assert loaded.module(torch.zeros(4, 3, 16, 16)).shape == (4, 4)


def test_a_program_exported_at_batch_one_runs_whole_batches(tmp_path, user_cnn):
    loaded = load_model(_export(user_cnn, tmp_path / "user.pt2"))
    images = torch.randn(6, 3, 16, 16, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(images), user_cnn(images), rtol=0, atol=1e-5)


def test_a_truncated_archive_is_one_error_line(tmp_path, user_cnn):
    path = _export(user_cnn, tmp_path / "user.pt2")
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(BadInputError, match="damaged or truncated") as err:
        load_model(path)
    assert "\n" not in str(err.value)


def test_an_archive_with_a_pickled_object_is_refused_before_loading(tmp_path, user_cnn):
    path = _export(user_cnn, tmp_path / "user.pt2")
    root = zipfile.ZipFile(path).namelist()[0].split("/")[0]
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(f"{root}/data/constants/opaque_obj_0", b"\x80\x04c__builtin__\nexec\n.")
    with pytest.raises(UnsupportedError, match="'data/constants/opaque_obj_0'.*unpickle or run as code"):
        load_model(path)


def test_a_weight_marked_as_pickled_is_refused(tmp_path, user_cnn):
    path = _export(user_cnn, tmp_path / "user.pt2")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = next(name for name in members if name.endswith("_weights_config.json"))
    members[config] = members[config].replace(b'"use_pickle": false', b'"use_pickle": true', 1)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UnsupportedError, match="is stored pickled"):
        load_model(path)
