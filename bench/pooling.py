"""Pooling methods on the MCU-sized network: accuracy vs int8 peak activation, standard vs aggressive downsampling.

For "mcunet" at 64×64 on Fashion-MNIST and each pooling method (sap, sap-nowin, max, avg, strided, lip) with
standard (`1222`) and aggressive (`4221`) stage strides: test accuracy on the full 10k test split (mean ± std over
seeds), parameters, MACs, the int8 peak activation arena planned by the same planner as `sapool plan`
(sapool.models.footprint) and training throughput. Every network is trained through the library (build_network,
make_optimizer, fit, evaluate) with one fixed recipe; seeds change the initial weights, the shuffle order and the
augmentation, not the training subset (the library's fixed-seed subset). Then the issue's target is checked for
each SAP variant (pooling_claims.py) and printed as PASS/FAIL lines whatever they show.

    python bench/pooling.py               # full run (≈ 30 min on 2 cores), writes bench/results/pooling.json
    python bench/pooling.py --quick       # 1 seed, tiny subset, 1k test images: checks the script works (~2 min)
    python bench/pooling.py --probe       # throughput per configuration and the projected time of the recipe
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from common import RESULTS, environment
from pooling_claims import anchor_row, evaluate_claims
from pooling_report import print_claims, print_table, write_json

from sapool.models.build import build_model
from sapool.models.config import DOWNSAMPLE, POOLS
from sapool.models.footprint import int8_peak_activation
from sapool.train.data import ImageSet, load_dataset
from sapool.train.distributed import Workers
from sapool.train.loop import Schedule, evaluate, fit, make_optimizer
from sapool.train.progress import TrainingProgress
from sapool.train.session import build_network, model_config_for
from sapool.train.transforms import channel_statistics

SCHEMA_VERSION = 1
ARCH, INPUT_SIZE, DATA = "mcunet", 64, "fashion-mnist"
MONITOR_IMAGES = 500  # per-epoch progress lines only; the reported accuracy is the full test split's


@dataclass(frozen=True)
class Recipe:
    """The one training recipe every configuration and seed gets."""

    seeds: int = 3
    epochs: int = 3
    subset: int = 12000  # training images (fixed library subset); the test split is always used whole
    batch_size: int = 64
    lr: float = 0.05
    optimizer: str = "sgd"
    test_images: int | None = None  # None = the full test split (only --quick lowers it)

    def describe(self) -> str:
        test = "full test split" if self.test_images is None else f"{self.test_images} test images"
        return (f"{self.subset} training images × {self.epochs} epochs, batch {self.batch_size}, {self.optimizer} "
                f"lr {self.lr} (5% warm-up, cosine), {self.seeds} seed(s), {test}")


QUICK = Recipe(seeds=1, epochs=1, subset=256, test_images=1000)


def configurations() -> list[dict]:
    return [{"arch": ARCH, "pool": pool, "downsample": downsample, "input_size": INPUT_SIZE}
            for downsample in DOWNSAMPLE for pool in POOLS]


def static_measures(config) -> dict:
    """Parameters (torch, incl. BN and SAP position embeddings), MACs and the planned int8 arena of one config."""
    model = build_model(config)
    footprint = int8_peak_activation(model, config)
    return {"params": sum(p.numel() for p in model.parameters()), "macs": footprint.macs,
            "peak_activation_bytes": footprint.peak_arena_bytes, "lower_bound_bytes": footprint.lower_bound_bytes}


def train_seed(config, seed: int, recipe: Recipe, train: ImageSet, test: ImageSet, monitor: ImageSet,
               quiet: bool) -> dict:
    """Train one network with the recipe and evaluate it on `test`."""
    schedule = Schedule(epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                        optimizer=recipe.optimizer, seed=seed)
    workers = Workers(0, 1, torch.device("cpu"))
    normalization = channel_statistics(train.images)
    model = build_network(config, seed)
    optimizer = make_optimizer(model, schedule)
    started = time.perf_counter()
    with TrainingProgress(enabled=not quiet) as progress:
        epochs = fit(model, optimizer, train, monitor, normalization, config.input_size, schedule, workers, progress)
    trained = time.perf_counter()
    loss, accuracy = evaluate(model, test, normalization, config.input_size, 2 * recipe.batch_size, workers)
    evaluated = time.perf_counter()
    return {
        "seed": seed,
        "test_accuracy": accuracy,
        "test_loss": loss,
        "train_images_per_second": statistics.fmean(epoch.images_per_second for epoch in epochs),
        "train_seconds": round(trained - started, 2),
        "eval_images_per_second": len(test) / max(evaluated - trained, 1e-9),
        "eval_seconds": round(evaluated - trained, 2),
    }


def summarize(options: dict, static: dict, runs: list[dict]) -> dict:
    accuracies = [run["test_accuracy"] for run in runs]
    return {
        "pool": options["pool"],
        "downsample": options["downsample"],
        **static,
        "accuracy_mean": statistics.fmean(accuracies),
        "accuracy_std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "train_images_per_second": statistics.fmean(run["train_images_per_second"] for run in runs),
        "seconds": round(sum(run["train_seconds"] + run["eval_seconds"] for run in runs), 1),
        "runs": runs,
    }


def add_anchor_ratios(rows: list[dict]) -> None:
    """Peak activation relative to the standard-downsampling max-pool network measured in the same run."""
    anchor = anchor_row(rows)["peak_activation_bytes"]
    for row in rows:
        row["peak_vs_anchor"] = row["peak_activation_bytes"] / anchor


def probe(dataset, recipe: Recipe, configs: list) -> int:
    """Time a few training steps and a short evaluation per configuration; project the recipe's total time."""
    steps = 16
    train = dataset.train.take(steps * recipe.batch_size)
    test = dataset.test.take(4 * recipe.batch_size)
    probe_recipe = replace(recipe, epochs=1)
    total = 0.0
    for config in configs:
        run = train_seed(config, 0, probe_recipe, train, test, test.take(2), quiet=True)
        seconds = recipe.seeds * (recipe.epochs * (recipe.subset / run["train_images_per_second"]
                                                   + MONITOR_IMAGES / run["eval_images_per_second"])
                                  + (recipe.test_images or len(dataset.test)) / run["eval_images_per_second"])
        total += seconds
        print(f"{config.downsample:>10} {config.pool:>9}: train {run['train_images_per_second']:6.0f} img/s, "
              f"eval {run['eval_images_per_second']:6.0f} img/s -> {seconds / 60:5.1f} min", flush=True)
    print(f"projected total for {recipe.describe()}: {total / 60:.1f} min (load {os.getloadavg()[0]:.2f})")
    return 0


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or None)
    return {**environment(), "cpu_model": cpu, "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 256 images, 1 epoch, 1k test images")
    parser.add_argument("--probe", action="store_true", help="only measure throughput and project the total time")
    parser.add_argument("--seeds", type=int, help="number of seeds (0 … N-1)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--subset", type=int, help="training images")
    parser.add_argument("--test-images", type=int, help="evaluate on this many test images (default: all)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-epoch progress")
    parser.add_argument("-o", "--output", type=Path, default=RESULTS / "pooling.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    recipe = QUICK if args.quick else Recipe()
    overrides = {key: getattr(args, key) for key in ("seeds", "epochs", "subset", "test_images")
                 if getattr(args, key) is not None}
    recipe = replace(recipe, **overrides)
    if recipe.seeds < 1 or recipe.epochs < 1 or recipe.subset < 2 * recipe.batch_size:
        print(f"need --seeds >= 1, --epochs >= 1 and --subset >= {2 * recipe.batch_size}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    dataset = load_dataset(DATA)
    configs = [model_config_for(options, dataset) for options in configurations()]
    if args.probe:
        return probe(dataset, recipe, configs)
    train = dataset.train.take(recipe.subset)
    test = dataset.test if recipe.test_images is None else dataset.test.take(recipe.test_images)
    monitor = dataset.test.take(MONITOR_IMAGES)
    print(f"recipe: {recipe.describe()}", flush=True)
    load_before = os.getloadavg()
    rows = []
    for options, config in zip(configurations(), configs):
        static = static_measures(config)
        runs = []
        for seed in range(recipe.seeds):
            print(f"{config.downsample} {config.pool} seed {seed}", flush=True)
            runs.append(train_seed(config, seed, recipe, train, test, monitor, args.quiet))
        rows.append(summarize(options, static, runs))
    add_anchor_ratios(rows)
    claims = evaluate_claims(rows)
    total = time.perf_counter() - started
    document = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": "pooling",
        "model": {"arch": ARCH, "input_size": INPUT_SIZE, "data": DATA, "int8_planner": "sapool.memory 'best'"},
        "recipe": {**asdict(recipe), "train_subset": "sapool.train.data ImageSet.take (fixed seed)",
                   "test_images_used": len(test), "monitor_images": MONITOR_IMAGES, "description": recipe.describe()},
        "anchor": {"pool": "max", "downsample": "standard"},
        "rows": rows,
        "claims": claims,
        "machine": {**machine(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "total_seconds": round(total, 1),
    }
    print_table(rows, recipe.describe())
    print_claims(claims)
    print(f"total time {total / 60:.1f} min")
    print(f"wrote {write_json(args.output, document)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
