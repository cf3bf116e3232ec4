"""The pooling study's outputs from its finished rows: the Markdown table, the verdict lines, pooling.json, the plot.

`python bench/pooling.py --report` calls `report`; it trains nothing, so it can run at any time on the rows so far.
The anchor for the RAM ratios is the standard-downsampling max-pool network at width 1, measured in the same study.
"""

from __future__ import annotations

from pathlib import Path

from pooling_claims import verdict, verdict_lines
from pooling_plan import LEVER_POOL, LEVER_WIDTH, Recipe, Row, all_planned_rows
from pooling_plot import plot

from sapool.outputs import write_json_atomically

SCHEMA_VERSION = 2
REPO = Path(__file__).resolve().parents[1]
ANCHOR = "standard max w1"
PLOT_NAME = "pooling_pareto.svg"
HEADER = ("| downsample | pool | width | seeds | int8 top-1 % (mean ± std) | float top-1 % | firmware RAM B "
          "(patches) | RAM B (`--patches off`) | anchor / RAM | params | MACs | instructions |")


def markdown_table(table: list[dict]) -> str:
    anchor = next((entry for entry in table if entry["name"] == ANCHOR), None)
    lines = [HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for entry in sorted(table, key=lambda item: (item["width"] != 1.0, item["downsample"], -item["mean"])):
        ratio = f"{anchor['ram'] / entry['ram']:.2f}×" if anchor else "—"
        lines.append(
            f"| {entry['downsample']} | {entry['pool']} | {entry['width']:g} | {len(entry['seeds'])} | "
            f"{entry['mean']:.2f} ± {entry['std']:.2f} | {entry['float_mean']:.2f} | {entry['ram']:,} | "
            f"{entry['ram_no_patches']:,} | {ratio} | {entry['params']:,} | {entry['macs']:,} | "
            f"{entry['instructions']:,} |")
    return "\n".join(lines)


def lever_table(finished: list[dict]) -> str:
    """Each training lever's row against the same network and seed trained with the study's plain recipe."""
    by_id = {record["id"]: record for record in finished}
    lines = ["| lever | seed | int8 top-1 % | float top-1 % | Δ int8 vs the plain recipe, points | firmware RAM B |",
             "|---|---:|---:|---:|---:|---:|"]
    for record in (record for record in finished if record.get("lever")):
        base = by_id.get(Row(LEVER_POOL, "aggressive", LEVER_WIDTH, record["seed"]).id)
        delta = f"{100 * (record['int8_top1'] - base['int8_top1']):+.2f}" if base else "— (plain row not done)"
        lines.append(f"| {record['lever']} | {record['seed']} | {100 * record['int8_top1']:.2f} | "
                     f"{100 * record['float_top1']:.2f} | {delta} | {record['firmware_ram_bytes']:,} |")
    return "\n".join(lines)


def _recipe_of(records: list[dict]) -> dict:
    recipes = {repr(sorted(record["recipe"].items())) for record in records if "recipe" in record}
    if len(recipes) > 1:
        raise SystemExit("the rows were trained with different recipes; report them separately (--results)")
    return next((record["recipe"] for record in records if "recipe" in record), Recipe().to_dict())


def report(records: list[dict], results: Path, docs: Path = REPO / "docs") -> int:
    """Print and write everything the finished rows support; returns the exit code."""
    finished = [record for record in records if record.get("status") == "ok"]
    if not finished:
        print(f"no finished rows in {results}: nothing to report yet")
        return 1
    recipe = _recipe_of(finished)
    result = verdict(finished)
    done_ids = {record["id"]: record for record in records}
    planned = all_planned_rows(done_ids)
    table_text = markdown_table(result["configurations"])
    levers_text = lever_table(finished)
    lines = verdict_lines(result)
    seconds = {record["id"]: record.get("train_seconds_from_history") for record in finished}
    document = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": "pooling",
        "recipe": recipe,
        "target": finished[0]["target"],
        "anchor": ANCHOR,
        "rows_finished": len(finished),
        "rows_failed": [record for record in records if record.get("status") != "ok"],
        "rows_planned_so_far": len(planned),
        "train_seconds_per_row": seconds,
        **result,
        "verdict_lines": lines,
        "table_markdown": table_text,
        "levers_markdown": levers_text,
    }
    print(table_text)
    print()
    print(f"training levers on aggressive {LEVER_POOL} width {LEVER_WIDTH:g}:")
    print(levers_text)
    print()
    print("\n".join(lines))
    write_json_atomically(results / "pooling.json", document)
    title = (f"mcunet 64×64, Fashion-MNIST, {recipe['epochs']} epochs on "
             f"{recipe['subset'] or 60000:,} images; {len(finished)} of {len(planned)} rows; target "
             f"{finished[0]['target']}")
    plot(result["configurations"], title, [results / PLOT_NAME, docs / PLOT_NAME])
    print(f"wrote {results / 'pooling.json'}, {results / PLOT_NAME}, {docs / PLOT_NAME}")
    return 0
