"""Training: data sources, the training loop, checkpoints, and the `sapool train` / `sapool eval` sessions.

The modules import torch; only the train/eval/compile commands load them. This file does not, so `sapool doctor`
can say where the data set is expected without torch.
"""

from pathlib import Path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
