"""Printing and writing the pooling benchmark's results: one rich table, the PASS/FAIL lines, the JSON document."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

COLUMNS = ("downsample", "pool", "test acc % (mean ± std)", "params", "MACs", "int8 peak B", "peak / anchor",
           "anchor / peak", "train img/s", "time s")


def print_table(rows: list[dict], recipe: str) -> None:
    table = Table(title=f"mcunet 64×64 on Fashion-MNIST — {recipe}\nanchor = standard max pool; peak = planned int8 "
                        "activation arena (sapool plan's planner)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("downsample", "pool") else "right")
    for row in rows:
        table.add_row(
            row["downsample"], row["pool"],
            f"{100 * row['accuracy_mean']:.2f} ± {100 * row['accuracy_std']:.2f}",
            f"{row['params']:,}", f"{row['macs']:,}", f"{row['peak_activation_bytes']:,}",
            f"{row['peak_vs_anchor']:.3f}", f"{1 / row['peak_vs_anchor']:.2f}×",
            f"{row['train_images_per_second']:.0f}", f"{row['seconds']:.0f}",
        )
    Console(width=160).print(table)


def print_claims(claims: dict) -> None:
    best = claims["best_standard_baseline"]
    print(f"target: {claims['statement']}")
    print(f"best standard-downsampling baseline: {best['pool']} ({100 * best['accuracy_mean']:.2f}%, "
          f"{best['peak_activation_bytes']:,} B)")
    for variant, result in claims["variants"].items():
        for check in result["checks"]:
            print(f"{'PASS' if check['passed'] else 'FAIL'} [{variant}] {check['name']}: {check['detail']}")
        print(f"{'PASS' if result['passed'] else 'FAIL'} [{variant}] target overall")


def write_json(path: Path, document: dict) -> Path:
    """Write atomically (temporary sibling, then rename), as every sapool output is written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
