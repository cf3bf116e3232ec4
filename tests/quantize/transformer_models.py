"""Small plain-torch networks with the ops of MLPs and transformers, shared by the quantiser, C backend and CLI
tests: a flat-input MLP autoencoder, a tiny transformer block (LayerNorm, nn.MultiheadAttention, GELU in its erf
form) and F.scaled_dot_product_attention on 3-D tokens. Weights are seeded; LayerNorm's affine parameters and
BatchNorm1d's statistics are set away from their defaults, as a trained network's are."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FEATURES = 16
IMAGE = (1, 1, 16, 16)


class MlpAutoencoder(nn.Module):
    """An IMU/sensor-style autoencoder on N×16 features: Linear, BatchNorm1d, ReLU."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(FEATURES, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Linear(24, 6))
        self.decoder = nn.Sequential(nn.ReLU(), nn.Linear(6, FEATURES))
        with torch.no_grad():
            self.encoder[1].running_mean.uniform_(-0.5, 0.5)
            self.encoder[1].running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class NormalisedMlp(nn.Module):
    """Linear → LayerNorm → ReLU → Linear on flat features."""

    def __init__(self):
        super().__init__()
        self.fc, self.norm, self.head = nn.Linear(FEATURES, 24), nn.LayerNorm(24), nn.Linear(24, 4)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.3, 0.3)

    def forward(self, x):
        return self.head(F.relu(self.norm(self.fc(x))))


class EncoderLayer(nn.Module):
    def __init__(self, width: int = 16, heads: int = 2):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        with torch.no_grad():
            for norm in (self.norm1, self.norm2):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.3, 0.3)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """A patch-embedding conv, one pre-norm encoder layer, token mean, a classifier."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(1, 16, 4, stride=4)
        self.encoder = nn.ModuleDict({"layers": nn.ModuleList([EncoderLayer()])})
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        for layer in self.encoder["layers"]:
            tokens = layer(tokens)
        return self.head(tokens.mean(1))


class TokenAttention(nn.Module):
    """F.scaled_dot_product_attention on N×L×E tokens from one packed Q/K/V projection cut with chunk."""

    def __init__(self):
        super().__init__()
        self.qkv, self.proj = nn.Linear(FEATURES, 3 * FEATURES), nn.Linear(FEATURES, FEATURES)

    def forward(self, tokens):
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        return tokens + self.proj(F.scaled_dot_product_attention(q, k, v))


# name → (module class, input shape)
MODELS = {"mlp": (MlpAutoencoder, (1, FEATURES)), "layernorm": (NormalisedMlp, (1, FEATURES)),
          "transformer": (TinyTransformer, IMAGE),
          "sdpa": (TokenAttention, (1, 8, FEATURES))}


def make(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    cls, shape = MODELS[name]
    torch.manual_seed(0)
    return cls().eval(), shape
