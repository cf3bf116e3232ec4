"""The training objective (sapool.train.objective): distillation loss against hand-computed values, the teacher's
re-normalised view of the batch, and the option checks."""

import math

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError
from sapool.train.objective import Objective, distillation_loss
from sapool.train.objective_options import ObjectiveOptions
from sapool.data.transforms import Normalization

STUDENT = torch.tensor([[0.0, 0.0]])  # softmax q = (1/2, 1/2) at any temperature
TEACHER = torch.tensor([[math.log(3.0), 0.0]])  # softmax p = (3/4, 1/4) at T = 1
LABEL = torch.tensor([0])


def test_distillation_loss_matches_the_hand_computed_value_at_t1():
    cross_entropy = math.log(2.0)  # −ln q0
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # Σ p ln(p/q) = 0.130812…
    expected = 0.5 * cross_entropy + 0.5 * kl
    assert float(distillation_loss(STUDENT, TEACHER, LABEL, temperature=1.0, alpha=0.5)) == pytest.approx(expected)
    assert expected == pytest.approx(0.411980, abs=1e-6)


def test_temperature_softens_the_teacher_and_scales_the_soft_term_by_t_squared():
    p0 = math.sqrt(3.0) / (1.0 + math.sqrt(3.0))  # softmax((ln 3)/2, 0)
    kl = p0 * math.log(p0 / 0.5) + (1 - p0) * math.log((1 - p0) / 0.5)
    expected = 0.25 * math.log(2.0) + 0.75 * 4.0 * kl
    assert float(distillation_loss(STUDENT, TEACHER, LABEL, temperature=2.0, alpha=0.75)) == pytest.approx(expected)


def test_alpha_zero_is_the_label_smoothed_cross_entropy():
    smoothed = -(0.9 + 0.1 / 2) * math.log(0.5) - (0.1 / 2) * math.log(0.5)
    loss = distillation_loss(STUDENT, TEACHER, LABEL, temperature=3.0, alpha=0.0, label_smoothing=0.1)
    assert float(loss) == pytest.approx(smoothed)


class _Recorder(nn.Module):
    """A 'teacher' that remembers what it was shown and answers with fixed logits."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.seen = None

    def forward(self, inputs):
        self.seen = inputs.clone()
        return TEACHER.expand(inputs.shape[0], -1) + 0 * self.weight


def test_the_teacher_sees_the_batch_in_its_own_normalisation_and_gets_no_gradient():
    teacher = _Recorder()
    objective = Objective(ObjectiveOptions(teacher="t.pt", kd_temperature=1.0, kd_alpha=0.5),
                          Normalization((0.5,), (0.25,)), teacher, Normalization((0.2,), (0.5,)))
    pixel = 0.7
    student_input = torch.full((1, 1, 2, 2), (pixel - 0.5) / 0.25)
    logits = STUDENT.clone().requires_grad_(True)
    loss = objective(logits, student_input, LABEL)
    assert torch.allclose(teacher.seen, torch.full((1, 1, 2, 2), (pixel - 0.2) / 0.5))
    assert float(loss.detach()) == pytest.approx(0.411980, abs=1e-6)
    loss.backward()
    assert not teacher.weight.requires_grad and teacher.weight.grad is None


def test_without_a_teacher_the_loss_is_the_cross_entropy():
    objective = Objective(ObjectiveOptions(label_smoothing=0.0), Normalization((0.5,), (0.25,)))
    assert float(objective(STUDENT, torch.zeros(1, 1, 2, 2), LABEL)) == pytest.approx(math.log(2.0))


@pytest.mark.parametrize("options, message", [
    ({"label_smoothing": 1.0}, "label smoothing must be in [0, 1)"),
    ({"kd_temperature": 0.0}, "temperature must be > 0"),
    ({"kd_alpha": 1.5}, "alpha must be in [0, 1]"),
    ({"augment": "mixup"}, "augmentation must be one of crop-flip, crop, none"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(BadInputError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        ObjectiveOptions(**options)


def test_options_of_a_checkpoint_from_before_these_options_are_the_defaults():
    assert ObjectiveOptions.from_train_args({"lr": 0.05, "seed": 0}) == ObjectiveOptions()
