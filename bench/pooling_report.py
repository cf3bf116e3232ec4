"""Printing and writing the pooling benchmark's results: one rich table, the PASS/FAIL lines, the JSON document."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from sapool.outputs import write_json_atomically

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
    """Write atomically (sapool.outputs), creating the folder, as every sapool output is written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, document)
    return path
