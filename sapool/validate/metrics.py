"""Scores of one model's outputs against the samples' targets: classification (top-1, per-class accuracy, confusion
matrix) or regression (mean absolute error), and how far two models' outputs agree (float vs int8).

Plain numpy on (N, outputs) arrays; nothing here knows where the outputs came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScore:
    name: str
    samples: int  # how many samples carry this label
    correct: int

    @property
    def accuracy(self) -> float | None:
        """Recall of the class; None when no sample has its label."""
        return self.correct / self.samples if self.samples else None


@dataclass(frozen=True)
class Classification:
    top1: float
    classes: tuple[ClassScore, ...]
    confusion: tuple[tuple[int, ...], ...]  # confusion[true label][predicted class]: sample counts


@dataclass(frozen=True)
class Regression:
    mean_abs_error: float
    root_mean_square_error: float
    max_abs_error: float


def classification(outputs: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...] | None) -> Classification:
    """`outputs` (N, K) scores, `labels` (N,) in 0..K-1; classes without a name are named by their index."""
    scores = outputs.reshape(len(labels), -1)
    classes = scores.shape[1]
    predicted = scores.argmax(axis=1)
    confusion = np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    names = tuple(class_names or ()) + tuple(str(i) for i in range(len(class_names or ()), classes))
    per_class = tuple(ClassScore(names[c], int(confusion[c].sum()), int(confusion[c, c])) for c in range(classes))
    return Classification(float(np.mean(predicted == labels)), per_class,
                          tuple(tuple(int(v) for v in row) for row in confusion))


def regression(outputs: np.ndarray, targets: np.ndarray) -> Regression:
    """Errors over every value of every sample (`outputs` and `targets` flatten to the same size per sample)."""
    error = outputs.reshape(len(targets), -1).astype(np.float64) - targets.reshape(len(targets), -1)
    return Regression(float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error ** 2))), float(np.max(np.abs(error))))


def top1_agreement(first: np.ndarray, second: np.ndarray) -> float:
    """Fraction of samples on which both models pick the same class."""
    count = len(first)
    return float(np.mean(first.reshape(count, -1).argmax(axis=1) == second.reshape(count, -1).argmax(axis=1)))
