"""Data sources: Fashion-MNIST from the Debian package, image folders and .npz files, and their bad inputs."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sapool.errors import BadInputError
from sapool.data.datasets import FASHION_MNIST_DIR, load_dataset

needs_fashion_mnist = pytest.mark.skipif(
    not FASHION_MNIST_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed"
)


def _write_png(path: Path, value: int, size=(8, 6), mode="L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 0, 255 - value)
    Image.new(mode, size, colour).save(path)


def _class_folder(root: Path, per_class: int = 10) -> Path:
    """Class 'dark' images are all 10, class 'light' all 200: labels can be checked against pixels."""
    for index in range(per_class):
        _write_png(root / "dark" / f"{index}.png", 10)
        _write_png(root / "light" / f"{index}.png", 200)
    return root


@needs_fashion_mnist
def test_fashion_mnist_splits_are_the_published_sizes():
    data = load_dataset("fashion-mnist")
    assert data.train.images.shape == (60000, 1, 28, 28) and data.train.images.dtype == torch.uint8
    assert data.test.images.shape == (10000, 1, 28, 28)
    assert data.train.labels.dtype == torch.int64
    assert sorted(data.train.labels.unique().tolist()) == list(range(10))
    assert torch.bincount(data.test.labels).tolist() == [1000] * 10  # the test split is balanced
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert data.dataset_id == "fashion-mnist"


def test_image_folder_labels_follow_sorted_folder_names(tmp_path):
    data = load_dataset(str(_class_folder(tmp_path)))
    assert data.class_names == ("dark", "light")
    assert data.channels == 1
    assert len(data.train) + len(data.test) == 20 and len(data.test) == 2  # 10% held out
    assert data.train.images.shape[1:] == (1, 6, 8)  # N×C×H×W from 8 wide × 6 high PNGs
    for split in (data.train, data.test):
        expected = torch.where(split.labels == 0, 10, 200)
        assert torch.equal(split.images[:, 0, 0, 0].long(), expected)


def test_image_folder_holdout_is_the_same_every_time(tmp_path):
    first, second = load_dataset(str(_class_folder(tmp_path))), load_dataset(str(tmp_path))
    assert torch.equal(first.test.images, second.test.images)


def test_colour_images_give_three_channels(tmp_path):
    for label in ("a", "b"):
        for index in range(3):
            _write_png(tmp_path / label / f"{index}.jpg", 100, mode="RGB")
    data = load_dataset(str(tmp_path))
    assert data.channels == 3
    assert data.train.images[0, :, 0, 0].tolist()[2] > 100  # blue channel kept in place (≈155)


def test_train_and_test_subfolders_are_used_as_given(tmp_path):
    _class_folder(tmp_path / "train", per_class=4)
    _class_folder(tmp_path / "test", per_class=1)
    data = load_dataset(str(tmp_path))
    assert (len(data.train), len(data.test)) == (8, 2)
    assert data.test.labels.tolist() == [0, 1]


def test_mixed_image_sizes_name_two_files(tmp_path):
    _class_folder(tmp_path)
    _write_png(tmp_path / "light" / "big.png", 200, size=(16, 16))
    with pytest.raises(BadInputError, match=r"mixed image sizes: .*dark/0\.png is 8×6 but .*big\.png is 16×16"):
        load_dataset(str(tmp_path))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: root / "nowhere", "data folder not found"),
        (lambda root: root, "is empty"),
        (lambda root: (root / "only").mkdir() or root, "only one class folder"),
        (lambda root: (root / "a").mkdir() or (root / "b").mkdir() or root, "has no .png/.jpg images"),
    ],
)
def test_bad_folders_are_rejected(tmp_path, make, message):
    with pytest.raises(BadInputError, match=message):
        load_dataset(str(make(tmp_path)))


def test_corrupt_image_names_the_file(tmp_path):
    _class_folder(tmp_path)
    (tmp_path / "dark" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(BadInputError, match="broken.png"):
        load_dataset(str(tmp_path))


def _npz(path: Path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def test_npz_nhwc_becomes_nchw(tmp_path):
    x = np.arange(20 * 4 * 5 * 3, dtype=np.int64).reshape(20, 4, 5, 3).astype(np.uint8)
    y = np.arange(20) % 4
    data = load_dataset(_npz(tmp_path / "d.npz", x=x, y=y))
    assert data.channels == 3 and data.class_names == ("0", "1", "2", "3")
    assert len(data.train) == 18 and len(data.test) == 2
    image, label = data.train.images[0], int(data.train.labels[0])
    original = [i for i in range(20) if np.array_equal(x[i].transpose(2, 0, 1), image.numpy())]
    assert len(original) == 1 and y[original[0]] == label


def test_npz_with_its_own_test_split_and_class_names(tmp_path):
    x = np.zeros((6, 8, 8), np.uint8)
    spec = _npz(tmp_path / "d.npz", x=x, y=np.array([0, 1, 2, 0, 1, 2]), x_test=x[:3], y_test=np.array([2, 1, 0]),
                class_names=np.array(["cat", "dog", "fox"]))
    data = load_dataset(spec)
    assert (len(data.train), len(data.test), data.channels) == (6, 3, 1)
    assert data.class_names == ("cat", "dog", "fox")
    assert data.test.labels.tolist() == [2, 1, 0]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((4, 8, 8), np.uint8)}, "no array 'y'"),
        ({"x": np.zeros((4, 8, 8), np.float32), "y": np.arange(4)}, "must be uint8"),
        ({"x": np.zeros((4, 8, 8, 2), np.uint8), "y": np.arange(4)}, "C = 1 or 3"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.arange(3)}, "has 4 images but 'y' has 3"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.linspace(0, 1, 4)}, "integer array"),
    ],
)
def test_npz_wrong_keys_and_dtypes(tmp_path, arrays, message):
    with pytest.raises(BadInputError, match=message):
        load_dataset(_npz(tmp_path / "d.npz", **arrays))


def test_corrupt_and_truncated_npz(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(BadInputError, match="not a readable .npz"):
        load_dataset(str(garbage))
    whole = Path(_npz(tmp_path / "whole.npz", x=np.zeros((50, 28, 28), np.uint8), y=np.zeros(50, np.int64)))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(BadInputError, match="not a readable .npz"):
        load_dataset(str(truncated))
    with pytest.raises(BadInputError, match="data file not found"):
        load_dataset(str(tmp_path / "missing.npz"))


def test_take_is_a_fixed_random_subset(tmp_path):
    x = np.arange(100, dtype=np.uint8).reshape(100, 1, 1)
    data = load_dataset(_npz(tmp_path / "d.npz", x=x, y=np.arange(100) % 2))
    first, second = data.train.take(10), data.train.take(10)
    assert len(first) == 10 and torch.equal(first.images, second.images)
    assert first.images.flatten().tolist() != list(range(10))  # random, not the first ten
    assert torch.equal(first.labels, first.images.flatten().long() % 2)  # images and labels stay paired


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width×height (no pixel data): what a decoder sees before it allocates."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("size, message", [((30000, 30000), "decompression bomb"), ((5000, 8), "each side must be")])
def test_huge_images_are_refused_from_their_header(tmp_path, size, message):
    for label in ("a", "b"):
        for n in range(2):
            _png_header_only(tmp_path / label / f"{n}.png", *size)
    with pytest.raises(BadInputError, match=message):
        load_dataset(str(tmp_path))


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.array([0, 1, 0, 2 ** 62])}, "at most 10,000"),
    ({"x": np.zeros((4, 0, 0), np.uint8), "y": np.array([0, 1, 0, 1])}, "each side must be 1 to 4096"),
])
def test_npz_with_absurd_labels_or_empty_images_is_refused(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(BadInputError, match=message):
        load_dataset(str(path))


def test_npz_claiming_a_huge_array_is_refused_before_it_is_read(tmp_path):
    import zipfile

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("x.npy", "w") as stream:
            np.lib.format.write_array_header_1_0(
                stream, {"descr": "|u1", "fortran_order": False, "shape": (10 ** 6, 1000, 1000, 1)})
        with archive.open("y.npy", "w") as stream:
            np.lib.format.write_array(stream, np.zeros(3, np.int64))
    with pytest.raises(BadInputError, match="larger than 4 GiB"):
        load_dataset(str(path))
