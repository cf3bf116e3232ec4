"""The pooling study's report (bench/pooling_report.py): files written, lever rows set against the plain recipe."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pooling_report import report  # noqa: E402

from tests.bench.test_pooling_claims import base_table  # noqa: E402


def test_report_writes_json_and_plot_and_compares_each_lever_with_the_same_seed(tmp_path):
    records = [{**row, "id": f"{row['downsample']}-{row['pool']}-w1-s{row['seed']}", "target": "stm32h7",
                "recipe": {"epochs": 10, "subset": None}} for row in base_table()]
    plain = next(record for record in records if record["id"] == "aggressive-sap-nowin-w1-s0")
    records.append({**plain, "id": plain["id"] + "-label-smoothing", "lever": "label-smoothing", "int8_top1": 0.9})
    assert report(records, tmp_path, docs=tmp_path / "docs") == 0
    document = json.loads((tmp_path / "pooling.json").read_text())
    assert document["rows_finished"] == len(records)
    assert "| label-smoothing | 0 | 90.00 | " in document["levers_markdown"]
    assert "| +0.50 |" in document["levers_markdown"]  # 90.00 vs the plain seed-0 row's 89.50
    assert any("goal MET" in line for line in document["verdict_lines"])
    assert (tmp_path / "pooling_pareto.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "docs" / "pooling_pareto.svg").is_file()
