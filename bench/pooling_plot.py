"""The pooling study's picture: int8 top-1 against measured firmware RAM, one point per configuration.

x is `firmware_ram_bytes` (patch stage on, log scale), y the mean int8 top-1 over seeds with the seeds' min–max as
the error bar; colour = pool, filled = aggressive / hollow = standard downsampling, large = width 1 / small = 0.5.
The dashed line is the Pareto front (no configuration has both less RAM and higher accuracy). Each point is also
shown faintly at its RAM without patches, joined by a grey line, so the saving of patch-based execution is visible.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
matplotlib.rcParams["svg.hashsalt"] = "sapool"  # with no date (below): the same rows give a byte-identical SVG
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

COLOURS = {"sap": "#d62728", "sap-nowin": "#ff7f0e", "lip": "#2ca02c", "max": "#1f77b4", "avg": "#9467bd",
           "strided": "#7f7f7f"}


def pareto_front(table: list[dict]) -> list[dict]:
    """Configurations no other one beats on both RAM (lower) and mean accuracy (higher), by increasing RAM."""
    front, best = [], float("-inf")
    for entry in sorted(table, key=lambda item: (item["ram"], -item["mean"])):
        if entry["mean"] > best:
            front.append(entry)
            best = entry["mean"]
    return front


def plot(table: list[dict], title: str, paths: list[Path]) -> None:
    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=100)
    for entry in table:
        colour = COLOURS.get(entry["pool"], "black")
        size = 9 if entry["width"] >= 1 else 6
        filled = entry["downsample"] == "aggressive"
        low, high = min(entry["accuracies"]), max(entry["accuracies"])
        axes.plot([entry["ram_no_patches"], entry["ram"]], [entry["mean"]] * 2, color="0.85", zorder=1, lw=1)
        axes.plot(entry["ram_no_patches"], entry["mean"], marker="o", ms=size * 0.6, color=colour, alpha=0.25,
                  mfc="none", zorder=1)
        axes.errorbar(entry["ram"], entry["mean"], yerr=[[entry["mean"] - low], [high - entry["mean"]]],
                      marker="o", ms=size, color=colour, mfc=colour if filled else "white", capsize=3, zorder=3,
                      label=entry["name"])
    front = pareto_front(table)
    axes.plot([entry["ram"] for entry in front], [entry["mean"] for entry in front], ls="--", drawstyle="steps-post",
              color="black", lw=0.8, zorder=2, label="Pareto front")
    axes.set_xscale("log")
    axes.set_xlabel("measured firmware RAM, bytes (sapool emulate, patch stage on; faint: --patches off)")
    axes.set_ylabel("int8 top-1 on the 10k test split, % (mean; bar: seeds' min–max)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=2, loc="lower right")
    figure.tight_layout()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(figure)
