"""Plain-torch networks written the way torchvision writes them (explicit `padding=k // 2` on every conv), the
models users bring: their exports carry the PAD ops, bias adds and views that sapool's passes remove.

torchvision itself does not import here (its wheels need the CUDA build of torch, DESIGN §8), so MobileNetV2 is
rebuilt from its paper's table (Sandler et al. 2018, table 2), block for block as torchvision.models.mobilenet_v2.
"""

from __future__ import annotations

from torch import nn

# expansion t, output channels c, repeats n, first stride s
MOBILENET_V2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1))


def _divisible(channels: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible: round to a multiple of 8, never more than 10 % below."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def conv_bn_relu6(inputs: int, outputs: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                                   bias=False),
                         nn.BatchNorm2d(outputs), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = inputs * expansion
        layers = [conv_bn_relu6(inputs, hidden, kernel=1)] if expansion != 1 else []
        layers += [conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, outputs, 1, bias=False), nn.BatchNorm2d(outputs)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(self, width: float = 1.0, classes: int = 1000, blocks=MOBILENET_V2_BLOCKS) -> None:
        super().__init__()
        channels = _divisible(32 * width)
        layers = [conv_bn_relu6(3, channels, stride=2)]
        for expansion, outputs, repeats, stride in blocks:
            outputs = _divisible(outputs * width)
            for repeat in range(repeats):
                layers.append(InvertedResidual(channels, outputs, stride if repeat == 0 else 1, expansion))
                channels = outputs
        last = _divisible(1280 * max(1.0, width))
        layers.append(conv_bn_relu6(channels, last, kernel=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))
