"""A refused .pt2 compiles to exactly one stderr line with -q: no torchao, torch, absl or oneDNN chatter (they
write from C++ to descriptor 2, so the test runs sapool as a process), and the line names the user's module, not
an exporter's internals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

REPOSITORY = Path(__file__).resolve().parents[2]


class Inner(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, -1)  # no int8 lowering


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = Inner()

    def forward(self, x):
        return self.self_attn(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.encoder = nn.ModuleDict({"layers": nn.ModuleList([Layer()])})

    def forward(self, x):
        return self.encoder["layers"][0](self.fc(x))


def test_quiet_refusal_is_one_line_naming_the_module(tmp_path):
    model = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(Net().eval(), (torch.randn(1, 8),)), model)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run([sys.executable, "-m", "sapool", "compile", str(model), "-t", "stm32h7", "-o",
                             str(tmp_path / "out"), "--calib", "random", "--calib-samples", "4", "-q"],
                            capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=600)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: op cumsum") and "from module encoder.layers.0.self_attn (Inner)" in lines[0]
    assert result.stdout == ""
