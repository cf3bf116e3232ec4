"""Scores against brute-force counts: the confusion matrix, per-class accuracy, top-1, regression errors."""

import numpy as np

from sapool.validate.metrics import classification, regression, top1_agreement


def test_the_confusion_matrix_and_per_class_scores_are_the_brute_force_counts():
    rng = np.random.default_rng(1)
    classes, count = 4, 500
    outputs = rng.normal(size=(count, classes))
    labels = rng.integers(0, classes - 1, count)  # class 3 never occurs as a label: its accuracy is undefined
    scored = classification(outputs, labels, ("a", "b"))
    expected = [[0] * classes for _ in range(classes)]
    for label, row in zip(labels, outputs):
        expected[label][int(np.argmax(row))] += 1
    assert [list(row) for row in scored.confusion] == expected
    assert [c.name for c in scored.classes] == ["a", "b", "2", "3"]
    assert [c.samples for c in scored.classes] == [int(np.sum(labels == c)) for c in range(classes)]
    assert [c.correct for c in scored.classes] == [expected[c][c] for c in range(classes)]
    assert scored.classes[3].accuracy is None
    assert scored.top1 == sum(expected[c][c] for c in range(classes)) / count


def test_regression_errors_by_hand():
    targets = np.array([[0.0, 1.0], [2.0, -1.0]], dtype=np.float32)
    outputs = targets + np.array([[0.5, -0.5], [0.0, 1.0]])
    scored = regression(outputs, targets)
    assert scored.mean_abs_error == 0.5
    assert scored.max_abs_error == 1.0
    assert np.isclose(scored.root_mean_square_error, np.sqrt((0.25 + 0.25 + 1.0) / 4))


def test_agreement_counts_samples_where_both_pick_the_same_class():
    first = np.array([[1, 0], [0, 1], [1, 0]])
    second = np.array([[1, 0], [1, 0], [0.9, 0.1]])
    assert top1_agreement(first, second) == 2 / 3
