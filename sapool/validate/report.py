"""`sapool validate`'s result and its three renderings: text, strict JSON (schema_version) and one self-contained
HTML page (inline CSS, the plan report's jinja conventions: autoescape, strict undefined, names made printable).
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.quantize.layer_error import LayerError
from sapool.validate.metrics import Classification, Regression

SCHEMA_VERSION = 1
WORST_LAYERS = 5  # the text report lists this many layers furthest from float (all with -v)


@dataclass(frozen=True)
class ValidationReport:
    """`scores` maps "float" (absent for an int8 .tflite) and "int8" to a Classification or Regression;
    `agreement` is the top-1 agreement of float and int8 (classification) or the mean absolute difference of
    their outputs (regression), None without a float model."""

    model: str
    model_kind: str
    data: str
    samples: int
    task: str
    scores: dict[str, Classification | Regression]
    agreement: float | None
    layers: tuple[LayerError, ...]
    calibration: str | None
    int8_ops: int
    warnings: tuple[str, ...]


def to_dict(report: ValidationReport) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "model": report.model,
        "model_kind": report.model_kind,
        "data": report.data,
        "samples": report.samples,
        "task": report.task,
        "calibration": report.calibration,
        "int8_ops": report.int8_ops,
        "float": _score_dict(report.scores.get("float")),
        "int8": _score_dict(report.scores["int8"]),
        "agreement": None if report.agreement is None else {_agreement_key(report): report.agreement},
        "layers": [{"name": layer.name, "op": layer.op, "tensor": layer.tensor, "cosine": layer.cosine,
                    "max_abs": layer.max_abs, "relative_l2": layer.relative_l2} for layer in report.layers],
        "warnings": list(report.warnings),
    }


def _agreement_key(report: ValidationReport) -> str:
    return "top1_agreement" if report.task == "classification" else "int8_vs_float_mean_abs_error"


def _score_dict(score) -> dict | None:
    if score is None:
        return None
    if isinstance(score, Regression):
        return {"mean_abs_error": score.mean_abs_error, "root_mean_square_error": score.root_mean_square_error,
                "max_abs_error": score.max_abs_error}
    return {"top1": score.top1,
            "classes": [{"name": c.name, "samples": c.samples, "correct": c.correct, "accuracy": c.accuracy}
                        for c in score.classes],
            "confusion": [list(row) for row in score.confusion]}


def to_text(report: ValidationReport, *, verbose: bool = False) -> str:
    from sapool.text import printable

    engines = list(report.scores)
    lines = [f"{printable(report.model)} ({report.model_kind}) on {printable(report.data)}",
             f"int8 model: {report.int8_ops} ops" + (f", calibrated on {printable(report.calibration)}"
                                                     if report.calibration else ""),
             f"task: {report.task}", ""]
    lines.append(f"{'':<26}" + "".join(f"{engine:>12}" for engine in engines))
    if report.task == "classification":
        lines.append(f"{'top-1':<26}" + "".join(f"{report.scores[e].top1:>12.2%}" for e in engines))
        if report.agreement is not None:
            lines.append(f"float and int8 pick the same class on {report.agreement:.2%} of the samples")
        lines += ["", f"{'class':<26}{'samples':>9}" + "".join(f"{e:>12}" for e in engines)]
        for index, scored in enumerate(report.scores["int8"].classes):
            cells = "".join(f"{_percent(report.scores[e].classes[index].accuracy):>12}" for e in engines)
            lines.append(f"{printable(scored.name)[:25]:<26}{scored.samples:>9,}{cells}")
        lines += ["", "confusion matrix (int8): rows are the true class, columns the predicted one", *_matrix(report)]
    else:
        for label, key in (("mean absolute error", "mean_abs_error"), ("root mean square error",
                                                                      "root_mean_square_error"),
                           ("max absolute error", "max_abs_error")):
            lines.append(f"{label:<26}" + "".join(f"{getattr(report.scores[e], key):>12.5g}" for e in engines))
        if report.agreement is not None:
            lines.append(f"int8 outputs differ from float ones by {report.agreement:.5g} on average")
    if report.layers:
        shown = report.layers if verbose else sorted(report.layers, key=lambda layer: layer.cosine)[:WORST_LAYERS]
        title = "per-layer int8 vs float error" + (
            "" if verbose else f" (the {len(shown)} furthest from float; -v: all)")
        lines += ["", title, f"{'layer':<40}{'op':<20}{'cosine':>9}{'max abs':>10}{'rel. L2':>9}"]
        for layer in shown:
            relative = "-" if layer.relative_l2 is None else f"{layer.relative_l2:.4f}"
            lines.append(f"{printable(layer.name)[:39]:<40}{layer.op[:19]:<20}{layer.cosine:>9.4f}"
                         f"{layer.max_abs:>10.4g}{relative:>9}")
    lines += [f"warning: {printable(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _matrix(report: ValidationReport) -> list[str]:
    confusion = report.scores["int8"].confusion
    width = max(5, len(f"{max(max(row) for row in confusion):,}") + 1)
    lines = [f"{'':>6}" + "".join(f"{column:>{width}}" for column in range(len(confusion)))]
    lines += [f"{row_index:>6}" + "".join(f"{count:>{width},}" for count in row)
              for row_index, row in enumerate(confusion)]
    return lines


def to_html(report: ValidationReport) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from sapool.text import printable

    environment = Environment(loader=PackageLoader("sapool.validate", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              finalize=lambda value: printable(value) if isinstance(value, str) else value)
    environment.filters["percent"] = _percent
    template = environment.get_template("validate.html.j2")
    return template.render(report=report, engines=list(report.scores), shade=_shades(report))


def _shades(report: ValidationReport) -> list[list[float]]:
    """Each confusion cell's share of its row (its true class), for the cell's background."""
    if report.task != "classification":
        return []
    return [[count / max(sum(row), 1) for count in row] for row in report.scores["int8"].confusion]
