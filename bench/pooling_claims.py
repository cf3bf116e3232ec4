"""The issue-17 verdict, computed from the study's finished rows.

Goal: "SAP + aggressive downsampling within 1 point of the best standard-downsampling model at >= 4x less measured
firmware RAM, and ahead of every other pool at the same RAM beyond the seeds' spread."

Definitions (they are the whole verdict; nothing is judged by hand):
- accuracy is the int8 top-1 on the 10k test split (the model the firmware runs); a configuration's accuracy is the
  mean over its seeds;
- RAM is `firmware_ram_bytes`: measured by `sapool emulate` with the patch stage on (arena + static + stack);
- "A ahead of B beyond the seeds' spread" means A's worst seed beats B's best seed (their seed ranges do not
  overlap); "behind" is the mirror image; overlapping ranges are a tie. Both sides need REQUIRED_SEEDS seeds,
  otherwise the comparison is "missing seeds" and says no more than the means;
- "the best model at no more RAM": the configuration (any pool, downsampling, width) with the highest mean among
  those whose RAM is <= the SAP configuration's, SAP itself excluded;
- "the best standard-downsampling model with patches": the highest mean among the standard rows (any pool, any
  width), its RAM measured with patches, so the 4x is against what patch-based execution already saves;
- "every other pool at the same RAM": the other pools at the same downsampling and width (the same stage strides,
  so the same stem-dominated RAM up to the pool's own buffers; both RAMs are reported).
"""

from __future__ import annotations

import statistics

SAP_POOLS = ("sap", "sap-nowin")
REQUIRED_SEEDS = 3
TOLERANCE_POINTS = 1.0
MIN_RAM_REDUCTION = 4.0
METRIC = "int8_top1"


def configurations(records: list[dict]) -> list[dict]:
    """One entry per (pool, downsample, width) from the finished rows: seed accuracies, mean, std and RAM."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        if record.get("status", "ok") == "ok" and not record.get("lever"):  # levers: pooling_report.lever_table
            groups.setdefault((record["pool"], record["downsample"], float(record["width"])), []).append(record)
    result = []
    for (pool, downsample, width), rows in sorted(groups.items()):
        accuracies = [100.0 * row[METRIC] for row in rows]
        floats = [100.0 * row["float_top1"] for row in rows]
        result.append({
            "name": f"{downsample} {pool} w{width:g}", "pool": pool, "downsample": downsample, "width": width,
            "seeds": sorted(row["seed"] for row in rows), "accuracies": accuracies,
            "mean": statistics.fmean(accuracies), "std": statistics.stdev(accuracies) if len(rows) > 1 else 0.0,
            "float_mean": statistics.fmean(floats),
            "ram": max(row["firmware_ram_bytes"] for row in rows),
            "ram_no_patches": max(row["firmware_ram_bytes_no_patches"] for row in rows),
            "params": rows[0]["params"], "macs": rows[0]["macs"],
            "instructions": rows[0]["instructions"], "instructions_no_patches": rows[0]["instructions_no_patches"],
        })
    return result


def compare(subject: dict, other: dict) -> dict:
    """subject vs other in points: ahead / behind beyond the seeds' spread, tie, or missing seeds."""
    margin = subject["mean"] - other["mean"]
    if min(len(subject["accuracies"]), len(other["accuracies"])) < REQUIRED_SEEDS:
        outcome = "missing seeds"
    elif min(subject["accuracies"]) > max(other["accuracies"]):
        outcome = "ahead"
    elif max(subject["accuracies"]) < min(other["accuracies"]):
        outcome = "behind"
    else:
        outcome = "tie"
    return {"other": other["name"], "other_mean": round(other["mean"], 3), "other_ram": other["ram"],
            "other_seeds": len(other["accuracies"]), "margin_points": round(margin, 3), "outcome": outcome}


def _best(candidates: list[dict]) -> dict | None:
    return max(candidates, key=lambda entry: entry["mean"], default=None)


def _against_best_standard(subject: dict, best: dict | None) -> dict:
    if best is None:
        return {"outcome": "missing row", "detail": "no standard-downsampling row finished yet"}
    gap = best["mean"] - subject["mean"]
    reduction = best["ram"] / subject["ram"]
    passed = gap <= TOLERANCE_POINTS and reduction >= MIN_RAM_REDUCTION
    seeds = min(len(subject["accuracies"]), len(best["accuracies"]))
    return {"other": best["name"], "other_mean": round(best["mean"], 3), "other_ram": best["ram"],
            "gap_points": round(gap, 3), "ram_reduction": round(reduction, 3),
            "within_tolerance": gap <= TOLERANCE_POINTS, "ram_reduction_met": reduction >= MIN_RAM_REDUCTION,
            "outcome": ("pass" if passed else "fail") + ("" if seeds >= REQUIRED_SEEDS else " (missing seeds)")}


def judge(subject: dict, table: list[dict]) -> dict:
    """Every part of the goal for one SAP-aggressive configuration.

    goal_met is False as soon as one part fails for good (RAM reduction short of 4x, more than 1 point behind the
    best standard model with all seeds in, a tie or a loss against another pool), None while a part still waits for
    seeds or rows, True when every part passes.
    """
    cheaper = [entry for entry in table if entry is not subject and entry["ram"] <= subject["ram"]]
    best_cheaper = _best(cheaper)
    standard = _against_best_standard(subject, _best([entry for entry in table if entry["downsample"] == "standard"]))
    same_setting = [compare(subject, entry) for entry in table
                    if entry is not subject and entry["pool"] not in SAP_POOLS
                    and (entry["downsample"], entry["width"]) == (subject["downsample"], subject["width"])]
    parts = [standard["outcome"]] + [comparison["outcome"] for comparison in same_setting]
    if (standard["outcome"] == "fail" or standard.get("ram_reduction_met") is False
            or any(outcome in ("behind", "tie") for outcome in parts)):
        goal = False
    elif any("missing" in outcome for outcome in parts) or not same_setting:
        goal = None
    else:
        goal = True
    return {
        "subject": subject["name"], "mean": round(subject["mean"], 3), "seeds": len(subject["accuracies"]),
        "ram": subject["ram"], "ram_no_patches": subject["ram_no_patches"],
        "best_at_no_more_ram": compare(subject, best_cheaper) if best_cheaper else None,
        "best_standard_with_patches": standard,
        "other_pools_same_setting": same_setting,
        "goal_met": goal,
    }


def verdict(records: list[dict]) -> dict:
    """The verdict for every SAP-aggressive configuration that has finished rows."""
    table = configurations(records)
    subjects = [entry for entry in table if entry["pool"] in SAP_POOLS and entry["downsample"] == "aggressive"]
    return {"metric": METRIC, "required_seeds": REQUIRED_SEEDS, "tolerance_points": TOLERANCE_POINTS,
            "min_ram_reduction": MIN_RAM_REDUCTION, "definitions": __doc__.split("Definitions", 1)[1].strip(),
            "configurations": table, "judgements": [judge(subject, table) for subject in subjects]}


def verdict_lines(result: dict) -> list[str]:
    """The verdict in words, one line per check, numbers included."""
    lines = []
    for judgement in result["judgements"]:
        name = (f"{judgement['subject']} ({judgement['mean']:.2f}%, {judgement['seeds']} seed(s), "
                f"{judgement['ram']:,} B)")
        goal = {True: "MET", False: "NOT MET", None: "UNDECIDED (missing seeds or rows)"}[judgement["goal_met"]]
        lines.append(f"{name}: goal {goal}")
        standard = judgement["best_standard_with_patches"]
        if "gap_points" in standard:
            lines.append(f"  vs best standard {standard['other']} ({standard['other_mean']:.2f}%, "
                         f"{standard['other_ram']:,} B): {standard['gap_points']:+.2f} points behind, "
                         f"{standard['ram_reduction']:.2f}x less RAM -> {standard['outcome']}")
        else:
            lines.append(f"  vs best standard: {standard['detail']}")
        cheaper = judgement["best_at_no_more_ram"]
        if cheaper:
            lines.append(f"  vs best at no more RAM {cheaper['other']} ({cheaper['other_mean']:.2f}%, "
                         f"{cheaper['other_ram']:,} B): {cheaper['margin_points']:+.2f} points -> {cheaper['outcome']}")
        if not judgement["other_pools_same_setting"]:
            lines.append("  vs the other pools at this setting: none finished yet")
        for comparison in judgement["other_pools_same_setting"]:
            lines.append(f"  vs {comparison['other']} ({comparison['other_mean']:.2f}%, {comparison['other_ram']:,} B):"
                         f" {comparison['margin_points']:+.2f} points -> {comparison['outcome']}")
    return lines
