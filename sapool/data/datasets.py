"""Image data sources for training: the embedded Fashion-MNIST, an image folder, or an .npz file.

Every source is decoded once into uint8 tensors (N×C×H×W) at the images' own size; resizing, augmentation and
normalisation happen per batch (sapool.data.transforms), which keeps 60k Fashion-MNIST images at 47 MB instead
of ~1 GB of 64×64 floats. Nothing is ever downloaded: Fashion-MNIST comes from Debian's dataset-fashion-mnist.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from sapool.errors import BadInputError, MissingToolError
from sapool.data import FASHION_MNIST_DIR

FASHION_MNIST = "fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Folders and .npz files without their own test split get one held out by this fixed seed, so that `sapool eval`
# later finds the same held-out images whatever seed the training used.
HOLDOUT_SEED = 0
HOLDOUT_FRACTION = 0.1
SUBSET_SEED = 0
# Sane limits, checked before anything is decoded: images are resized to at most 1024² anyway, labels make a
# classifier's output layer, and a data file larger than MAX_DATA_BYTES would not fit this kind of training.
MAX_IMAGE_SIDE = 4096
MAX_CLASSES = 10_000
MAX_DATA_BYTES = 4 * 1024 ** 3


@dataclass(frozen=True)
class ImageSet:
    """Images as uint8 N×C×H×W and their int64 class indices."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, count: int) -> ImageSet:
        """A random `count` images (fixed seed, so repeated quick runs see the same ones)."""
        if count >= len(self):
            return self
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(SUBSET_SEED))[:count]
        return ImageSet(self.images[order], self.labels[order])


@dataclass(frozen=True)
class Dataset:
    """A train and a test split sharing class names; `dataset_id` is what a checkpoint records to find it again."""

    dataset_id: str
    train: ImageSet
    test: ImageSet
    class_names: tuple[str, ...]

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[1])


def data_file(spec: str | None) -> Path | None:
    """The file or folder a data spec names (None for the installed Fashion-MNIST): an input no -o may overwrite."""
    if spec is None or spec == FASHION_MNIST:
        return None
    for prefix in ("folder:", "npz:"):
        if spec.startswith(prefix):
            return Path(spec[len(prefix):])
    return Path(spec)


def load_dataset(spec: str) -> Dataset:
    """`spec` is "fashion-mnist", a folder with one sub-folder per class, or a .npz file (also as a dataset id)."""
    if spec == FASHION_MNIST:
        return load_fashion_mnist()
    for prefix in ("folder:", "npz:"):
        if spec.startswith(prefix):
            spec = spec[len(prefix):]
    path = Path(spec)
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    if not path.exists():
        raise BadInputError(f"data folder not found: {path} (expected fashion-mnist, a folder or a .npz file)")
    if not path.is_dir():
        raise BadInputError(f"data must be fashion-mnist, a folder of class sub-folders or a .npz file: {path}")
    return load_image_folder(path)


@lru_cache(maxsize=1)
def load_fashion_mnist() -> Dataset:
    """The 60k/10k Fashion-MNIST splits from the Debian package (decoded once per process)."""
    if not FASHION_MNIST_DIR.is_dir():
        raise MissingToolError(
            f"Fashion-MNIST not found in {FASHION_MNIST_DIR}; install it with: apt-get install dataset-fashion-mnist"
        )
    train = ImageSet(_read_idx_images("train-images-idx3-ubyte.gz"), _read_idx_labels("train-labels-idx1-ubyte.gz"))
    test = ImageSet(_read_idx_images("t10k-images-idx3-ubyte.gz"), _read_idx_labels("t10k-labels-idx1-ubyte.gz"))
    return Dataset(FASHION_MNIST, train, test, FASHION_MNIST_CLASSES)


def _read_idx(name: str, magic: int, dims: int) -> np.ndarray:
    """An IDX file (big-endian magic, one uint32 per dimension, then uint8 data)."""
    path = FASHION_MNIST_DIR / name
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise BadInputError(f"cannot read Fashion-MNIST file {path}: {err}") from err
    header = np.frombuffer(raw, dtype=">u4", count=1 + dims)
    if int(header[0]) != magic:
        raise BadInputError(f"{path} is not an IDX file of the expected kind (magic {int(header[0]):#x})")
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + dims))
    if data.size != int(np.prod(shape)):
        raise BadInputError(f"{path} is truncated: {data.size} bytes of data for shape {shape}")
    return data.reshape(shape)


def _read_idx_images(name: str) -> torch.Tensor:
    return torch.from_numpy(_read_idx(name, 0x803, 3).copy()).unsqueeze(1)


def _read_idx_labels(name: str) -> torch.Tensor:
    return torch.from_numpy(_read_idx(name, 0x801, 1).astype(np.int64))


def load_npz(path: Path) -> Dataset:
    """An .npz with `x` (uint8 N×H×W×C or N×H×W) and `y` (integers); optional `x_test`/`y_test`, `class_names`."""
    if not path.is_file():
        raise BadInputError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            _check_npz_headers(path, archive)
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise BadInputError(f"{path} is not a readable .npz file ({err})") from err
    for key in ("x", "y"):
        if key not in arrays:
            raise BadInputError(f"{path} has no array {key!r} (found: {', '.join(arrays) or 'none'})")
    train = _npz_split(path, arrays["x"], arrays["y"], "x", "y")
    if "x_test" in arrays and "y_test" in arrays:
        test = _npz_split(path, arrays["x_test"], arrays["y_test"], "x_test", "y_test")
    else:
        train, test = _hold_out(train)
    classes = int(max(train.labels.max(), test.labels.max())) + 1
    if classes > MAX_CLASSES:
        raise BadInputError(f"{path}: a label of {classes - 1:,} means {classes:,} classes; at most {MAX_CLASSES:,}")
    names = arrays.get("class_names")
    class_names = tuple(str(n) for n in names) if names is not None else tuple(str(i) for i in range(classes))
    if len(class_names) < max(classes, 2):
        raise BadInputError(f"{path}: labels need {classes} classes but class_names has {len(class_names)} (min 2)")
    _check_same_image_shape(path, train, test)
    return Dataset(f"npz:{path.resolve()}", train, test, class_names)


def _check_npz_headers(path: Path, archive) -> None:
    """Refuse arrays too large to be training data from their .npy headers, before reading (or inflating) them."""
    total = 0
    members = set(archive.zip.namelist())
    for key in archive.files:
        with archive.zip.open(f"{key}.npy" if f"{key}.npy" in members else key) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise BadInputError(f"{path}: array {key!r} uses .npy format {version}; save it with numpy.savez")
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = reader(stream)
        total += int(np.prod(shape, dtype=object)) * dtype.itemsize
        if total > MAX_DATA_BYTES:
            raise BadInputError(f"{path}: array {key!r} {shape} makes the data larger than "
                                f"{MAX_DATA_BYTES // 1024 ** 3} GiB; refusing to load it")


def _npz_split(path: Path, x: np.ndarray, y: np.ndarray, x_key: str, y_key: str) -> ImageSet:
    if x.dtype != np.uint8:
        raise BadInputError(f"{path}: {x_key!r} must be uint8 images, got dtype {x.dtype}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise BadInputError(f"{path}: {x_key!r} must be N×H×W×C with C = 1 or 3, got shape {x.shape}")
    if not (1 <= x.shape[1] <= MAX_IMAGE_SIDE and 1 <= x.shape[2] <= MAX_IMAGE_SIDE):
        raise BadInputError(f"{path}: {x_key!r} images are {x.shape[1]}×{x.shape[2]}; each side must be 1 to "
                            f"{MAX_IMAGE_SIDE}")
    if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
        raise BadInputError(f"{path}: {y_key!r} must be a 1-D integer array, got {y.dtype} with shape {y.shape}")
    if len(y) != len(x) or len(x) == 0:
        raise BadInputError(f"{path}: {x_key!r} has {len(x)} images but {y_key!r} has {len(y)} labels")
    if y.min() < 0:
        raise BadInputError(f"{path}: {y_key!r} has negative labels")
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return ImageSet(images, torch.from_numpy(y.astype(np.int64)))


def load_image_folder(root: Path) -> Dataset:
    """One sub-folder per class (names sorted), or `train/` and `test/` folders that each look like that."""
    if (root / "train").is_dir() and (root / "test").is_dir():
        class_names, train_files = _list_class_files(root / "train")
        test_names, test_files = _list_class_files(root / "test")
        if test_names != class_names:
            raise BadInputError(f"{root}: train/ and test/ have different class folders")
        train, test = _decode_images(train_files + test_files, split_at=len(train_files))
    else:
        class_names, files = _list_class_files(root)
        train, _ = _decode_images(files, split_at=len(files))
        train, test = _hold_out(train)
    return Dataset(f"folder:{root.resolve()}", train, test, class_names)


def _list_class_files(root: Path) -> tuple[tuple[str, ...], list[tuple[Path, int]]]:
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise BadInputError(f"data folder {root} is empty: expected one sub-folder of images per class")
    if len(class_dirs) < 2:
        raise BadInputError(f"data folder {root} has only one class folder ({class_dirs[0].name}); need at least 2")
    files = []
    for label, class_dir in enumerate(class_dirs):
        images = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise BadInputError(f"class folder {class_dir} has no .png/.jpg images")
        files.extend((p, label) for p in images)
    return tuple(d.name for d in class_dirs), files


def _decode_images(files: list[tuple[Path, int]], split_at: int) -> tuple[ImageSet, ImageSet]:
    """Decode all files to one size and channel count; mixed sizes are an error (no silent distortion)."""
    from PIL import Image, UnidentifiedImageError

    unreadable = (OSError, UnidentifiedImageError, Image.DecompressionBombError)

    headers = []
    for path, _ in files:
        try:
            with Image.open(path) as image:
                headers.append((image.size, image.mode))
        except unreadable as err:
            raise BadInputError(f"cannot read image {path}: {err}") from err
    first_size = headers[0][0]
    if not all(1 <= side <= MAX_IMAGE_SIDE for side in first_size):
        raise BadInputError(f"image {files[0][0]} is {first_size[0]}×{first_size[1]}; each side must be 1 to "
                            f"{MAX_IMAGE_SIDE} (resize the images first)")
    for (path, _), (size, _) in zip(files, headers):
        if size != first_size:
            raise BadInputError(
                f"mixed image sizes: {files[0][0]} is {first_size[0]}×{first_size[1]} but {path} is "
                f"{size[0]}×{size[1]}; resize the images to one size first"
            )
    grey = all(mode in ("L", "1", "I", "I;16", "F") for _, mode in headers)
    mode = "L" if grey else "RGB"
    pixels = np.empty((len(files), first_size[1], first_size[0], 1 if grey else 3), dtype=np.uint8)
    for index, (path, _) in enumerate(files):
        try:
            with Image.open(path) as image:
                pixels[index] = np.asarray(image.convert(mode)).reshape(pixels.shape[1:])
        except unreadable as err:
            raise BadInputError(f"cannot decode image {path}: {err}") from err
    images = torch.from_numpy(pixels.transpose(0, 3, 1, 2).copy())
    labels = torch.tensor([label for _, label in files], dtype=torch.int64)
    return ImageSet(images[:split_at], labels[:split_at]), ImageSet(images[split_at:], labels[split_at:])


def _hold_out(images: ImageSet) -> tuple[ImageSet, ImageSet]:
    """Split off a fixed 10% (at least one image) as the test split."""
    if len(images) < 2:
        raise BadInputError(f"need at least 2 images to hold one out for testing, got {len(images)}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(HOLDOUT_SEED))
    test_count = max(1, int(len(images) * HOLDOUT_FRACTION))
    test, train = order[:test_count], order[test_count:]
    return ImageSet(images.images[train], images.labels[train]), ImageSet(images.images[test], images.labels[test])


def _check_same_image_shape(path: Path, train: ImageSet, test: ImageSet) -> None:
    if train.images.shape[1:] != test.images.shape[1:]:
        raise BadInputError(
            f"{path}: train images are {tuple(train.images.shape[1:])} but test images {tuple(test.images.shape[1:])}"
        )
