"""Plain-torch models a user brings, as a user writes them (torch's own layers, `padding=1`, `view(n, -1)`), at
tiny widths and resolutions so that each compiles in seconds.

`MODELS` maps a name to (builder, input shape). Builders are seeded, and BatchNorm statistics are made non-trivial,
so an int8 conversion that drops or misplaces one shows in the outputs. Used by the coverage tests
(tests/coverage/test_coverage.py) and `bench/coverage.py`; one net per op the issue names (LayerNorm, softmax on
another axis, attention, GELU, Sqrt/Div, an explicit PAD, a separate bias add, BatchNorm1d on flat input).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

IMAGE = (1, 3, 16, 16)
SPECTROGRAM = (1, 1, 24, 10)  # keyword spotting: time × MFCC features, one channel


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: type = nn.ReLU):
    """Conv + BatchNorm + activation, torch style: `padding=kernel // 2` (explicit symmetric zero padding)."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), act())


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(conv_bn(cin, hidden, 1, act=nn.ReLU6),
                                  conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                                  nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """torchvision's layout at width 1/4: stem, inverted residuals with ReLU6, 1×1 head, average, classifier."""

    def __init__(self, classes: int = 10):
        super().__init__()
        blocks = [(8, 1, 1), (8, 2, 4), (8, 1, 4), (16, 2, 4), (16, 1, 4)]
        layers, cin = [conv_bn(3, 8, 3, 2, act=nn.ReLU6)], 8
        for cout, stride, expand in blocks:
            layers.append(InvertedResidual(cin, cout, stride, expand))
            cin = cout
        layers.append(conv_bn(cin, 32, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, 3, stride), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential() if stride == 1 and cin == cout else
                         nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class ResNet8(nn.Module):
    """MLPerf Tiny's image-classification ResNet-8 at width 1/2: three stages of one basic block."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.stages = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2), BasicBlock(16, 32, 2))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = F.avg_pool2d(self.stages(self.stem(x)), 4)
        return self.fc(x.view(x.size(0), -1))  # TorchScript ONNX: Shape → Gather → Concat → Reshape


class DsCnn(nn.Module):
    """Keyword spotting's DS-CNN: a strided 10×4 conv over (time, features), depthwise-separable blocks."""

    def __init__(self, classes: int = 12):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, (10, 4), (2, 2), (5, 1)), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(*[nn.Sequential(conv_bn(16, 16, 3, groups=16), conv_bn(16, 16, 1))
                                      for _ in range(2)])
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x)).mean(dim=(2, 3))
        return self.fc(x)


class MlpAutoencoder(nn.Module):
    """Anomaly detection's dense autoencoder (MLPerf Tiny ad01 shape, narrower) on a flat (N, F) input."""

    def __init__(self, features: int = 40):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 8),
                                     nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, features))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Tokens(nn.Module):
    """A 4×4 patch embedding: N×3×16×16 → N×16 tokens×16 features (what a vision transformer starts with)."""

    def __init__(self, features: int = 16):
        super().__init__()
        self.embed = nn.Conv2d(3, features, 4, 4)

    def forward(self, x):
        return self.embed(x).flatten(2).transpose(1, 2)


class TransformerBlock(nn.Module):
    """Pre-norm transformer encoder block (LayerNorm, MultiheadAttention, GELU MLP) over patch tokens."""

    def __init__(self, features: int = 16, classes: int = 10):
        super().__init__()
        self.tokens = Tokens(features)
        self.norm1, self.norm2 = nn.LayerNorm(features), nn.LayerNorm(features)
        self.attention = nn.MultiheadAttention(features, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(features, 2 * features), nn.GELU(), nn.Linear(2 * features, features))
        self.head = nn.Linear(features, classes)

    def forward(self, x):
        x = self.tokens(x)
        y = self.norm1(x)
        x = x + self.attention(y, y, y, need_weights=False)[0]
        x = x + self.mlp(self.norm2(x))
        return self.head(x.mean(dim=1))


class TokenNet(nn.Module):
    """Patch tokens → one op under test → mean over tokens → classifier."""

    def __init__(self, middle: nn.Module, features: int = 16):
        super().__init__()
        self.tokens, self.middle, self.head = Tokens(features), middle, nn.Linear(features, 4)

    def forward(self, x):
        return self.head(self.middle(self.tokens(x)).mean(dim=1))


class SelfAttention(nn.Module):
    """Q/K/V projections split into 2 heads (N×heads×L×d, the 4-D form torch's ONNX exporter requires) and
    F.scaled_dot_product_attention, as hand-written transformer code does it."""

    def __init__(self, features: int = 16, heads: int = 2):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = (nn.Linear(features, features) for _ in range(3))

    def forward(self, x):
        q, k, v = (projection(x).unflatten(-1, (self.heads, -1)).transpose(1, 2)
                   for projection in (self.q, self.k, self.v))
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)


class MultiheadSelfAttention(nn.Module):
    def __init__(self, features: int = 16):
        super().__init__()
        self.attention = nn.MultiheadAttention(features, 2, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False)[0]


class ConvNet(nn.Module):
    """conv + ReLU → one op under test → conv → global average → classifier, on an image."""

    def __init__(self, middle: Callable[[torch.Tensor], torch.Tensor], cin: int = 3, width: int = 8):
        super().__init__()
        self.first, self.second, self.head = nn.Conv2d(cin, width, 3, 1, 1), nn.Conv2d(width, width, 3, 1, 1), \
            nn.Linear(width, 4)
        self.middle = middle

    def forward(self, x):
        x = self.second(self.middle(F.relu(self.first(x))))
        return self.head(x.mean(dim=(2, 3)))


class SqrtDiv(nn.Module):
    def forward(self, x):
        return torch.sqrt(x + 1.0) / 3.0


class ChannelSoftmax(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=1)


class AsymmetricPad(nn.Module):
    """An explicit F.pad (TensorFlow's SAME padding for stride 2, written out) before an unpadded strided conv."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, 2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class SeparateBias(nn.Module):
    """A bias-free conv and its bias as a separate add (CNTK-style exports)."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 1, bias=False)
        self.bias = nn.Parameter(torch.linspace(-0.5, 0.5, width).reshape(1, width, 1, 1))

    def forward(self, x):
        return self.conv(x) + self.bias


def imu_mlp() -> nn.Module:
    """A sensor net on 6 axes × 8 samples, flattened: Linear, BatchNorm1d, ReLU."""
    return nn.Sequential(nn.Linear(48, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 16), nn.BatchNorm1d(16),
                         nn.ReLU(), nn.Linear(16, 5))


MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "mobilenetv2": (MobileNetV2, IMAGE),
    "resnet8": (ResNet8, IMAGE),
    "ds-cnn": (DsCnn, SPECTROGRAM),
    "mlp-autoencoder": (MlpAutoencoder, (1, 40)),
    "transformer-block": (TransformerBlock, IMAGE),
    "imu-mlp-batchnorm1d": (imu_mlp, (1, 48)),
    "layernorm": (lambda: TokenNet(nn.LayerNorm(16)), IMAGE),
    "multihead-attention": (lambda: TokenNet(MultiheadSelfAttention()), IMAGE),
    "scaled-dot-product-attention": (lambda: TokenNet(SelfAttention()), IMAGE),
    "gelu": (lambda: ConvNet(nn.GELU()), IMAGE),
    "softmax-channels": (lambda: ConvNet(ChannelSoftmax()), IMAGE),
    "sqrt-div": (lambda: ConvNet(SqrtDiv()), IMAGE),
    "explicit-pad": (lambda: ConvNet(AsymmetricPad()), IMAGE),
    "separate-bias-add": (lambda: ConvNet(SeparateBias()), IMAGE),
}


def build(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    """The model `name` in eval mode (seeded weights, BatchNorm statistics away from 0/1) and its input shape."""
    builder, shape = MODELS[name]
    torch.manual_seed(0)
    model = builder()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.3, 0.3)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval(), shape
