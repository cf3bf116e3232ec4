import json

import torch
from torch import nn

from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.models.profile import profile_model
from sapool.models.sap import SAPool


class Small(nn.Module):
    """conv 1→4 (3×3) + BN + ReLU on 16×16, SAP ×4 (p = 2), global pool, linear 4→10."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = SAPool(4, 4, 16, 2, heads=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.pool(self.conv(x))), 1))


CONFIG = ModelConfig(in_channels=1, input_size=16)


def test_layers_bytes_params_and_macs_of_a_known_model():
    model = Small().train()
    profile = profile_model(model, CONFIG)
    by_name = {layer.name: layer for layer in profile.layers}
    assert "conv.1" not in by_name and "conv.2" not in by_name  # BN and ReLU fold into the conv
    conv = by_name["conv.0"]
    assert (conv.output_shape, conv.input_bytes, conv.output_bytes) == ((1, 4, 16, 16), 256, 1024)
    assert conv.params == 36 and conv.macs == 1024 * 9
    scores = by_name["pool.attention.scores"]  # 64 tokens of dim 4, two heads of 2
    assert scores.output_shape == (2, 64, 64) and scores.input_bytes == 2 * 2 * 64 * 2
    assert scores.macs == 2 * 64 * 64 * 2
    assert by_name["pool.export_pool.window_softmax"].output_shape == (1, 4, 4, 4)
    assert "pool.upsample" not in by_name  # the export form has no full-resolution weight map
    assert by_name["fc"].macs == 40 and by_name["fc"].params == 50
    assert profile.params == sum(p.numel() for p in model.parameters())
    assert profile.macs == sum(layer.macs for layer in profile.layers)
    assert profile.peak_layer == "pool.attention.scores"
    assert profile.peak_activation_bytes == 512 + 8192
    assert model.training and model.pool.form == "paper"  # state restored


def test_report_forms():
    profile = profile_model(build_model(ModelConfig(arch="mcunet", pool="sap", downsample="aggressive")))
    data = json.loads(json.dumps(profile.to_dict()))
    assert data["schema_version"] == 1 and data["peak_activation_bytes"] == profile.peak_activation_bytes
    assert len(data["layers"]) == len(profile.layers)
    text = profile.format_text()
    assert "stem.conv.conv" in text and f"{profile.peak_activation_bytes:,} B" in text
