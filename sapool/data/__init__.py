"""Data: image sets (Fashion-MNIST, image folders, .npz: datasets.py) and their normalisation (transforms.py).

Training, pruning, calibration and validation all read images through here. The modules import torch; this file
does not, so `sapool doctor` can say where the data set is expected without torch.
"""

from pathlib import Path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
