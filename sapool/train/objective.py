"""What a training step minimises: cross-entropy (optionally label-smoothed), optionally distilled from a teacher.

Knowledge distillation (Hinton et al., 2015) lets a small network — here an aggressively downsampling one, which
sees less of each image early on — learn from a bigger standard-downsampling network's soft predictions:

    loss = (1 − α) · CE(student, labels) + α · T² · KL(softmax(teacher / T) ‖ softmax(student / T))

T² keeps the soft term's gradients on the scale of the hard term's as T grows. The teacher is any sapool checkpoint
for the same classes, channels and input size; it runs in eval mode without gradients, on the student's batch
re-normalised to its own statistics, so that it sees exactly the images it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from sapool.errors import BadInputError
from sapool.models.config import ModelConfig
from sapool.train.objective_options import ObjectiveOptions
from sapool.data.transforms import Normalization

def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float,
                      alpha: float, label_smoothing: float = 0.0) -> torch.Tensor:
    """(1 − α)·CE(student, labels) + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), batch mean."""
    hard = F.cross_entropy(student, labels, label_smoothing=label_smoothing)
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1), F.log_softmax(teacher / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return (1.0 - alpha) * hard + alpha * temperature * temperature * soft


def check_teacher(path: Path, student: ModelConfig):
    """Load and check a --teacher checkpoint against the student before anything is trained; returns it."""
    from sapool.train.checkpoint import load_checkpoint

    teacher = load_checkpoint(path)
    config = teacher.config
    for what, mine, theirs in (("classes", student.num_classes, config.num_classes),
                               ("input channels", student.in_channels, config.in_channels),
                               ("input size", student.input_size, config.input_size)):
        if mine != theirs:
            raise BadInputError(f"--teacher {path} has {theirs} {what} but the student has {mine}; distil from a "
                                "network trained on the same data and input size")
    return teacher


class Objective:
    """The loss of one batch: plain or label-smoothed cross-entropy, or distillation from a frozen teacher."""

    def __init__(self, options: ObjectiveOptions, student_normalization: Normalization,
                 teacher: torch.nn.Module | None = None, teacher_normalization: Normalization | None = None):
        self.options = options
        self.teacher = teacher
        if teacher is not None:
            teacher.eval()
            for parameter in teacher.parameters():
                parameter.requires_grad_(False)
            # x_teacher = (x_student · std_s + mean_s − mean_t) / std_t, per channel
            shape = (1, -1, 1, 1)
            student_mean, student_std = (torch.tensor(v).view(shape) for v in (student_normalization.mean,
                                                                                 student_normalization.std))
            teacher_mean, teacher_std = (torch.tensor(v).view(shape) for v in (teacher_normalization.mean,
                                                                                 teacher_normalization.std))
            self._scale = student_std / teacher_std
            self._shift = (student_mean - teacher_mean) / teacher_std

    def to(self, device: torch.device) -> Objective:
        if self.teacher is not None:
            self.teacher.to(device)
            self._scale, self._shift = self._scale.to(device), self._shift.to(device)
        return self

    def __call__(self, logits: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.teacher is None:
            return F.cross_entropy(logits, labels, label_smoothing=self.options.label_smoothing)
        with torch.no_grad():
            teacher_logits = self.teacher(inputs * self._scale + self._shift)
        return distillation_loss(logits, teacher_logits, labels, self.options.kd_temperature, self.options.kd_alpha,
                                 self.options.label_smoothing)
