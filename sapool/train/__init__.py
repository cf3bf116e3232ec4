"""Training: data sources, the training loop, checkpoints, and the `sapool train` / `sapool eval` sessions.

Imports torch; only the train/eval/compile commands load this package.
"""
