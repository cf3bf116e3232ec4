"""The three renderings of one validation report: strict JSON, text, and a self-contained, well-formed HTML page
that shows names literally (a class name with markup or control characters is data, not HTML)."""

import json
import xml.etree.ElementTree as ElementTree

import numpy as np

from sapool.quantize.layer_error import LayerError
from sapool.validate.metrics import classification, regression
from sapool.validate.report import ValidationReport, to_dict, to_html, to_text

NAMES = ("<b>cat</b>", "dog\x1b[31m")


def _report(task="classification") -> ValidationReport:
    labels = np.array([0, 0, 1, 1, 1])
    outputs = np.array([[1, 0], [0, 1], [0, 1], [0, 1], [1, 0]], dtype=np.float32)
    score = classification(outputs, labels, NAMES) if task == "classification" else regression(outputs, outputs + 1)
    layer = LayerError("conv", "CONV_2D", 3, 0.99, 0.5, None)
    return ValidationReport("m.pt2", "torch-export", "d.npz (x/y, all 5 samples)", 5, task,
                            {"float": score, "int8": score}, 1.0 if task == "classification" else float("nan"),
                            (layer,), "the validation samples (5)", 4, ("a warning",))


def test_json_is_strict_and_carries_the_schema_version():
    from sapool.outputs import strict_json

    document = json.loads(strict_json(to_dict(_report("regression"))))
    assert document["schema_version"] == 1 and document["agreement"] == {"int8_vs_float_mean_abs_error": None}
    assert document["int8"] == {"mean_abs_error": 1.0, "root_mean_square_error": 1.0, "max_abs_error": 1.0}


def test_text_lists_the_scores_per_class_and_the_confusion_matrix():
    text = to_text(_report())
    assert "top-1                           60.00%      60.00%" in text
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert text.splitlines()[text.splitlines().index(
        "confusion matrix (int8): rows are the true class, columns the predicted one") + 2].split() == ["0", "1", "1"]


def test_html_is_one_well_formed_page_with_the_names_escaped():
    page = to_html(_report())
    root = ElementTree.fromstring(page.replace("<!DOCTYPE html>", ""))
    cells = [cell.text for cell in root.iter("td")]
    assert "0 <b>cat</b>" in cells and "dog\\x1b[31m" in cells
    assert "http" not in page.replace("http://www.w3.org", "") and "<script" not in page
