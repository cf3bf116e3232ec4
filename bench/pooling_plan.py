"""Which rows the pooling study trains, in which order, and with which recipe.

A row is one network (pool × downsampling × width) trained with one seed. Every configuration gets seed 0; the
SAP variants and, per setting (downsampling × width), the two best baselines by their seed-0 accuracy get seeds 1
and 2 as well. The two best are only known once every seed-0 baseline of that setting is done, so the list of
rows still to run is recomputed from the finished rows each time a row finishes (a restart recomputes it the same
way). The order puts first what the issue's verdict needs most: SAP-aggressive and the standard baselines at
width 1, then the aggressive baselines it is compared with at the same RAM.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

POOLS = ("sap", "sap-nowin", "lip", "max", "avg", "strided")
SAP_POOLS = ("sap", "sap-nowin")
BASELINES = ("max", "avg", "lip", "strided")  # max first: the anchor of the RAM ratios
DOWNSAMPLES = ("standard", "aggressive")
WIDTHS = (1.0, 0.5)
SEEDS = (0, 1, 2)
BEST_BASELINES_WITH_SEEDS = 2
# Training levers beyond the paper, each one row on top of the study's recipe (pooling_row.lever_options):
# label smoothing 0.1, no augmentation (to measure what crop + flip bring), 3x the epochs (the cosine spans them
# all), and distillation from the best standard-downsampling network (known once those rows are done).
LEVERS = ("label-smoothing", "no-augment", "epochs-30", "kd")
LEVER_POOL, LEVER_WIDTH = "sap-nowin", 1.0  # the shipped checkpoint's network
KD_ALPHA, KD_TEMPERATURE, LABEL_SMOOTHING, LONG_SCHEDULE_FACTOR = 0.5, 4.0, 0.1, 3


@dataclass(frozen=True)
class Recipe:
    """The one training recipe of the study (the issue: the full training set, >= 10 epochs)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    optimizer: str = "sgd"
    input_size: int = 64
    arch: str = "mcunet"
    data: str = "fashion-mnist"
    subset: int | None = None  # None = all 60,000 training images; only --quick sets it
    eval_samples: int = 10_000  # int8 top-1 is measured on this many test images by `sapool compile`

    def to_dict(self) -> dict:
        return asdict(self)


QUICK = Recipe(epochs=1, subset=256, eval_samples=200)


@dataclass(frozen=True)
class Row:
    pool: str
    downsample: str
    width: float
    seed: int
    lever: str = ""  # "" = the study's recipe; else one training lever applied to it (see LEVERS)

    @property
    def setting(self) -> tuple[str, float]:
        return self.downsample, self.width

    @property
    def id(self) -> str:
        return f"{self.downsample}-{self.pool}-w{self.width:g}-s{self.seed}" + (f"-{self.lever}" if self.lever else "")

    def to_dict(self) -> dict:
        return {"id": self.id, **asdict(self)}


def _first_pass(width: float) -> list[Row]:
    """Seed 0 of every configuration at one width, most informative first."""
    return ([Row(pool, "aggressive", width, 0) for pool in SAP_POOLS]
            + [Row(pool, "standard", width, 0) for pool in BASELINES]
            + [Row(pool, "aggressive", width, 0) for pool in BASELINES]
            + [Row(pool, "standard", width, 0) for pool in SAP_POOLS])


def best_baselines(done: dict[str, dict], downsample: str, width: float) -> tuple[str, ...] | None:
    """The two baselines with the highest seed-0 float top-1 in this setting, or None while one is missing."""
    scores = {}
    for pool in BASELINES:
        record = done.get(Row(pool, downsample, width, 0).id)
        if record is None:
            return None
        scores[pool] = record["float_top1"]
    return tuple(sorted(scores, key=lambda pool: (-scores[pool], pool))[:BEST_BASELINES_WITH_SEEDS])


def _extra_seeds(done: dict[str, dict], width: float) -> list[Row]:
    rows = []
    for downsample in ("aggressive", "standard"):
        pools = list(SAP_POOLS) + list(best_baselines(done, downsample, width) or ())
        rows += [Row(pool, downsample, width, seed) for seed in SEEDS[1:] for pool in pools]
    return rows


def teacher_row(done: dict[str, dict]) -> Row | None:
    """The distillation teacher: the standard-downsampling width-1 seed-0 row with the best float top-1, once every
    such row is done."""
    candidates = [Row(pool, "standard", 1.0, 0) for pool in POOLS]
    if any(row.id not in done for row in candidates):
        return None
    return max(candidates, key=lambda row: done[row.id]["float_top1"])


def _lever_rows(done: dict[str, dict]) -> list[Row]:
    """Each training lever on the SAP-aggressive network of the shipped checkpoint, seed 0."""
    levers = [lever for lever in LEVERS if lever != "kd"]
    teacher = teacher_row(done)
    if teacher is not None:
        levers.append(f"kd-from-{teacher.id}")
    return [Row(LEVER_POOL, "aggressive", LEVER_WIDTH, 0, lever) for lever in levers]


def all_planned_rows(done: dict[str, dict]) -> list[Row]:
    """Every row the study will have, in run order (rows that depend on unfinished ones appear once decided):
    width 1 seed 0, its extra seeds, the levers, then the same for width 0.5."""
    rows = []
    for width in WIDTHS:
        rows += _first_pass(width) + _extra_seeds(done, width)
        if width == LEVER_WIDTH:
            rows += _lever_rows(done)
    return rows


def pending_rows(done: dict[str, dict]) -> list[Row]:
    """Rows not finished yet, in run order; `done` maps row id -> finished record."""
    return [row for row in all_planned_rows(done) if row.id not in done]
