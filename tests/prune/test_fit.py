"""Pruning to fit a RAM budget: the peak-aware strategy against one global ratio, and budgets pruning cannot reach.

The networks are built here, untrained (random BatchNorm statistics): fitting is structural, no accuracy needed.
"""

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError, DoesNotFitError
from sapool.models.footprint import int8_peak_activation
from sapool.models.sap import SAPool
from sapool.prune.channels import prune_model
from sapool.prune.fit import prune_to_fit

SHAPE = (1, 3, 32, 32)
BUDGET = 12 * 1024


class EarlyHeavy(nn.Module):
    """An MCUNet-like memory profile: the full-resolution stem (32×32×16 = 16 KB) holds the peak, a 16×16×48 layer
    the next one, and the widest layer (64 channels) runs at 4×4, where its channels cost little memory."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.middle = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 48, 3, padding=1, bias=False), nn.BatchNorm2d(48),
                                    nn.ReLU())
        self.late = nn.Sequential(nn.MaxPool2d(4), nn.Conv2d(48, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.classifier = nn.Linear(64, 5)

    def forward(self, x):
        x = self.late(self.middle(self.stem(x)))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class TinySap(nn.Module):
    """A SAP layer with 1×1 patches on 16×16: L = 256 tokens; q, k and v (L × E, E not pruned) are 3 KB whatever C
    is (the fused attention kernel never stores the 2 heads × 256² = 128 KB of scores)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = SAPool(4, stride=2, input_size=16, patch_size=1)
        self.head = nn.Conv2d(4, 8, 1)
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        x = self.head(self.pool(self.stem(x)))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    network = EarlyHeavy()
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.normal_()
    return network.eval()


@pytest.fixture(scope="module")
def fits(model):
    return {strategy: prune_to_fit(model, SHAPE, ram_budget=BUDGET, strategy=strategy, patches="off")
            for strategy in ("peak", "global")}


def _params(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


def _kept(report) -> dict[str, int]:
    return {group.name: len(group.kept) for group in report.groups}


def test_the_unpruned_model_does_not_fit(model):
    assert int8_peak_activation(model, SHAPE, ram_budget=BUDGET, patches="off").fits is False


@pytest.mark.parametrize("strategy", ["peak", "global"])
def test_the_fit_is_verified_with_the_footprint_path(fits, strategy):
    pruned, _, footprint = fits[strategy]
    again = int8_peak_activation(pruned, SHAPE, ram_budget=BUDGET, patches="off")
    assert footprint.fits and again.fits and again.peak_arena_bytes == footprint.peak_arena_bytes <= BUDGET


def test_peak_strategy_keeps_more_channels_and_parameters_than_one_global_ratio(fits):
    (peak, peak_report, _), (global_, global_report, _) = fits["peak"], fits["global"]
    assert peak_report.channels_after > global_report.channels_after
    assert _params(peak) > _params(global_)
    assert global_report.ratio == 0.5 and peak_report.ratio is None


def test_peak_strategy_prunes_only_the_groups_live_at_a_peak_and_follows_the_peak(fits):
    _, report, _ = fits["peak"]
    kept = _kept(report)
    # round 1: the stem's 32×32 output and its pooled copy (20 KB) are the peak; 16 → 9 channels;
    # round 2: the peak moves to middle.1 (9×16×16 in + 48×16×16 out), both groups lose 16 %: 9 → 7, 48 → 40
    assert kept == {"stem.0": 7, "middle.1": 40, "late.1": 64}


def test_global_strategy_is_the_least_ratio_on_its_grid_that_fits(model, fits):
    _, report, _ = fits["global"]
    less = prune_model(model, report.ratio - 0.05, input_shape=SHAPE)[0]
    assert int8_peak_activation(less, SHAPE, ram_budget=BUDGET, patches="off").fits is False


def test_a_target_fit_is_placed_in_its_regions_with_more_channels_kept_than_one_ratio(model):
    """stm32f4 has SRAM1 112 KiB + SRAM2 16 KiB: at 128×128 the plan must split over both, and when the lower bound
    fits but the split placement does not, the placement's excess drives another round."""
    shape = (1, 3, 128, 128)
    peak, peak_report, footprint = prune_to_fit(model, shape, target="stm32f4", patches="off")
    _, global_report, _ = prune_to_fit(model, shape, target="stm32f4", strategy="global", patches="off")
    again = int8_peak_activation(peak, shape, target="stm32f4", patches="off")
    assert footprint.fits and again.fits and again.peak_arena_bytes == footprint.peak_arena_bytes
    assert all(use.used_bytes <= use.size_bytes for use in again.layout.regions)
    assert peak_report.channels_after > global_report.channels_after
    assert _kept(peak_report)["late.1"] == 64  # the 8×8 layer is never at a peak


@pytest.mark.parametrize("strategy", ["peak", "global"])
def test_a_model_that_fits_is_returned_unpruned(model, strategy):
    _, report, footprint = prune_to_fit(model, SHAPE, ram_budget=1 << 20, strategy=strategy, patches="off")
    assert footprint.fits and report.channels_after == report.channels_before


def test_a_budget_below_the_input_names_the_op_and_what_does_not_shrink(model):
    """The 3 KB input alone exceeds 2 KB: refused before any pruning round."""
    with pytest.raises(DoesNotFitError) as error:
        prune_to_fit(model, SHAPE, ram_budget=2048, patches="off")
    message = str(error.value)
    # 3072 B of input and the stem conv's two 27 B im2col patches (3×3×3 input values, 64 B aligned) do not shrink
    assert "at op 0 CONV_2D stem_0 (torch module stem.0) with 19520 B live, 3126 B do not shrink" in message
    assert "(largest: x 1×32×32×3 = 3072 B); use a smaller input size" in message


def test_a_budget_just_above_the_input_prunes_the_peak_groups_as_far_as_allowed(model):
    with pytest.raises(DoesNotFitError) as error:
        prune_to_fit(model, SHAPE, ram_budget=3200, patches="off")
    # the stem keeps its last channel (16 × 0.95 = 15 removed): 3072 + 1024 B live at the stem conv, + 64 B im2col
    assert "at op 0 CONV_2D stem_0 (torch module stem.0) with 4160 B live, 3126 B do not shrink" in str(error.value)
    assert "the channel groups there (stem.0) are pruned as far as allowed" in str(error.value)


@pytest.mark.parametrize("strategy", ["peak", "global"])
def test_sap_attention_tokens_at_the_peak_are_named_instead_of_pruning_everything(strategy):
    torch.manual_seed(0)
    with pytest.raises(DoesNotFitError) as error:
        prune_to_fit(TinySap().eval(), (1, 1, 16, 16), ram_budget=4096, strategy=strategy, patches="off")
    message = str(error.value)
    assert "CUSTOM:SAPOOL_ATTENTION bmm_1 (torch call_function bmm in pool.attention.scores" in message
    assert message.endswith("inside SAP layer pool, whose attention tokens (q, k, v: L × embed dim, L = number of "
                            "patches) do not shrink with channels: reduce L (a smaller input or a larger patch size) "
                            "instead")


def test_unknown_strategy_is_bad_input(model):
    with pytest.raises(BadInputError, match="strategy must be one of peak, global"):
        prune_to_fit(model, SHAPE, ram_budget=BUDGET, strategy="uniform", patches="off")
