"""The TFLite-Micro export step: the arena written is one TFLite-Micro runs the model in, even for a tiny model."""

import json
import re

import torch
from click.testing import CliRunner
from torch import nn

from sapool.cli import main


class Tiny(nn.Module):
    """Four layers on a 4x4 input: a 64 B head, so TFLite-Micro's start-up bookkeeping, not the head, sets the
    arena (the estimate alone fell 240 B short: "Too many buffers (max is 4)")."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.head = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def test_a_tiny_model_gets_an_arena_tflite_micro_runs_it_in(tmp_path):
    torch.manual_seed(0)
    model = tmp_path / "tiny.pt2"
    torch.export.save(torch.export.export(Tiny().eval(), (torch.randn(1, 1, 4, 4),)), model)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "qemu-m7", "-o", str(out), "--calib", "random",
                                       "--no-firmware", "-q"])
    # exit 0: the compile ran the export in TFLite-Micro with the host arena it predicts (it used to stop here with
    # "cannot fit the model in a 2720-byte arena")
    assert result.exit_code == 0, result.output
    written = int(re.search(r"kTensorArenaSize = (\d+);", (out / "tflm" / "arena_size.h").read_text()).group(1))
    assert written == json.loads((out / "report.json").read_text())["tflm"]["arena_bytes"]
