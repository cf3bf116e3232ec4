"""Labelled samples as stored, for scoring a model (`sapool validate`, `compile --eval` on an int8 .tflite): the
validation split of a data set, and .npz files whose `x` need not be images (float features, spectrograms) and
whose `y` may be float regression targets. sapool.validate.samples prepares them for one model.

Which samples: the data set's own test split where it has one (Fashion-MNIST's 10k, an .npz's `x_test`/`y_test`,
a folder with `train/` and `test/`), otherwise all of it: data given for validation is validation data.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from sapool.data.datasets import FASHION_MNIST, _check_npz_headers, load_dataset
from sapool.errors import BadInputError


def read_images(spec: str, path: Path):
    """(uint8 N×C×H×W images, int labels, split name, class names) of Fashion-MNIST or an image folder."""
    import torch

    dataset = load_dataset(spec)
    if spec == FASHION_MNIST or ((path / "train").is_dir() and (path / "test").is_dir()):
        images, split = dataset.test, "test split"
    else:  # no test split of its own: all of it (the loader held 10 % out for training's sake)
        images = type(dataset.test)(torch.cat([dataset.train.images, dataset.test.images]),
                                    torch.cat([dataset.train.labels, dataset.test.labels]))
        split = "all"
    return images.images.numpy(), images.labels.numpy(), split, dataset.class_names


def read_npz(path: Path):
    """(x as stored, y as stored, split name, class names or None): `x_test`/`y_test` when present, else x/y."""
    if not path.is_file():
        raise BadInputError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            _check_npz_headers(path, archive)  # training's size check, before reading
            keys = ("x_test", "y_test") if {"x_test", "y_test"} <= set(archive.files) else ("x", "y")
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise BadInputError(f"{path} has no array {missing[0]!r} (found: {', '.join(archive.files) or 'none'})")
            x, y = archive[keys[0]], archive[keys[1]]
            names = archive["class_names"] if "class_names" in archive.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise BadInputError(f"{path} is not a readable .npz file ({err})") from None
    if len(x) != len(y) or len(x) == 0:
        raise BadInputError(f"{path}: {keys[0]!r} has {len(x)} samples but {keys[1]!r} has {len(y)}")
    if x.dtype == np.uint8:  # images, stored N×H×W×C as for training
        x = x[..., None] if x.ndim == 3 else x
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise BadInputError(f"{path}: uint8 {keys[0]!r} must be images N×H×W×C with C = 1 or 3, got {x.shape}")
        x = x.transpose(0, 3, 1, 2)
    elif not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise BadInputError(f"{path}: {keys[0]!r} must be numbers, got dtype {x.dtype}")
    split = "x_test/y_test" if keys[0] == "x_test" else "x/y"
    return x, y, split, None if names is None else tuple(str(name) for name in names)
