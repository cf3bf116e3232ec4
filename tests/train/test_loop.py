"""The training loop: schedule, sharding, determinism, and that training actually learns."""

import io

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError
from sapool.data.datasets import ImageSet
from sapool.train.distributed import Workers
from sapool.train.loop import Schedule, _epoch_batches, evaluate, fit, learning_rate, make_optimizer, train_epoch
from sapool.train.progress import TrainingProgress
from sapool.data.transforms import channel_statistics

CPU_ALONE = Workers(rank=0, world_size=1, device=torch.device("cpu"))


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: these tiny models gain nothing from two, and lose a lot when the cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _brightness_classes(count: int, seed: int) -> ImageSet:
    """Two classes a small CNN separates in a few steps: dark images with noise vs. bright images with noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    noise = torch.randint(0, 60, (count, 1, 16, 16), generator=generator)
    return ImageSet((noise + 40 + 120 * labels.view(-1, 1, 1, 1)).to(torch.uint8), labels)


def _small_cnn(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 2))


def _train(seed: int, epochs: int = 2) -> tuple[nn.Module, list]:
    train, test = _brightness_classes(96, seed=1), _brightness_classes(32, seed=2)
    schedule = Schedule(epochs=epochs, batch_size=16, lr=0.05, optimizer="sgd", seed=seed)
    model = _small_cnn(seed)
    results = fit(model, make_optimizer(model, schedule), train, test, channel_statistics(train.images), 16, schedule,
                  CPU_ALONE, TrainingProgress(enabled=False))
    return model, results


def test_learning_rate_warms_up_then_decays_to_zero():
    rates = [learning_rate(step, 100, 0.1) for step in range(100)]
    assert rates[0] == pytest.approx(0.02) and rates[4] == pytest.approx(0.1)  # 5 warm-up steps
    assert all(a >= b for a, b in zip(rates[4:], rates[5:]))
    assert rates[-1] < 0.001 and rates[52] == pytest.approx(0.05, abs=0.002)  # half-way through the cosine


@pytest.mark.parametrize(
    "changes, message",
    [({"epochs": 0}, "epochs"), ({"batch_size": 1}, "batch size"), ({"lr": 0.0}, "learning rate"),
     ({"optimizer": "adam"}, "optimizer")],
)
def test_schedule_rejects_bad_values(changes, message):
    with pytest.raises(BadInputError, match=message):
        Schedule(**{"epochs": 1, "batch_size": 8, "lr": 0.1, "optimizer": "sgd", "seed": 0, **changes})


def test_two_processes_get_disjoint_equal_shares():
    data = _brightness_classes(40, seed=0)
    schedule = Schedule(epochs=1, batch_size=5, lr=0.1, optimizer="sgd", seed=3)
    shares = [_epoch_batches(data, schedule, Workers(rank, 2, torch.device("cpu")), epoch=0) for rank in (0, 1)]
    assert [len(batches) for batches in shares] == [4, 4]
    seen = [torch.cat(batches).tolist() for batches in shares]
    assert not set(seen[0]) & set(seen[1]) and len(set(seen[0]) | set(seen[1])) == 40


def test_shuffle_changes_between_epochs_but_not_between_runs():
    data = _brightness_classes(40, seed=0)
    schedule = Schedule(epochs=2, batch_size=8, lr=0.1, optimizer="sgd", seed=3)
    epoch0 = torch.cat(_epoch_batches(data, schedule, CPU_ALONE, epoch=0))
    assert torch.equal(epoch0, torch.cat(_epoch_batches(data, schedule, CPU_ALONE, epoch=0)))
    assert not torch.equal(epoch0, torch.cat(_epoch_batches(data, schedule, CPU_ALONE, epoch=1)))


def test_training_lowers_the_loss_and_separates_the_classes():
    model, results = _train(seed=0, epochs=3)
    assert [r.epoch for r in results] == [1, 2, 3]
    assert results[-1].train_loss < results[0].train_loss
    assert results[-1].test_accuracy >= 0.9
    assert results[-1].images_per_second > 0


def test_same_seed_gives_identical_weights_and_another_seed_does_not():
    first, second, other = _train(seed=5)[0], _train(seed=5)[0], _train(seed=6)[0]
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[name]), name
    assert any(not torch.equal(t, other.state_dict()[n]) for n, t in first.state_dict().items())


def test_resuming_after_an_epoch_matches_an_uninterrupted_run():
    """Shuffle, augmentation, dropout and learning rate depend only on (seed, epoch, step): nothing is lost."""
    uninterrupted, _ = _train(seed=4, epochs=2)
    train, test = _brightness_classes(96, seed=1), _brightness_classes(32, seed=2)
    schedule = Schedule(epochs=2, batch_size=16, lr=0.05, optimizer="sgd", seed=4)
    norm, quiet = channel_statistics(train.images), TrainingProgress(enabled=False)
    model = _small_cnn(4)
    optimizer = make_optimizer(model, schedule)
    train_epoch(model, optimizer, train, norm, 16, schedule, CPU_ALONE, 0, quiet)
    saved = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, saved)
    saved.seek(0)
    state = torch.load(saved, weights_only=True)
    resumed = _small_cnn(seed=99)  # different initial weights: everything must come from the saved state
    resumed.load_state_dict(state["model"])
    resumed_optimizer = make_optimizer(resumed, schedule)
    resumed_optimizer.load_state_dict(state["optimizer"])
    results = fit(resumed, resumed_optimizer, train, test, norm, 16, schedule, CPU_ALONE, quiet, first_epoch=1)
    assert [r.epoch for r in results] == [2]
    for name, tensor in uninterrupted.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_evaluate_counts_every_image_once():
    data = _brightness_classes(10, seed=0)
    always_class_one = nn.Sequential(nn.Flatten(), nn.Linear(256, 2))
    with torch.no_grad():
        always_class_one[1].weight.zero_()
        always_class_one[1].bias.copy_(torch.tensor([0.0, 1.0]))
    loss, accuracy = evaluate(always_class_one, data, channel_statistics(data.images), 16, 3, CPU_ALONE)
    assert accuracy == pytest.approx(0.5)  # labels alternate 0, 1
    assert loss == pytest.approx(-torch.log_softmax(torch.tensor([0.0, 1.0]), 0).mean().item())
