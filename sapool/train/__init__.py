"""Training: the training loop, checkpoints, and the `sapool train` / `sapool eval` sessions (data: sapool/data/).

The modules import torch; only the train/eval/compile commands load them.
"""
