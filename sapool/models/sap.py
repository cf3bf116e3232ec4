"""Self-attentive pooling (SAP; arXiv 2209.07659, DESIGN.md §3) in two forms that share one set of parameters.

For x (N×C×H×W), pooling stride s (kernel = stride), patch size p, h heads and embed dim E, the paper computes
  1. t = ReLU(BN(Conv2d(C→E, kernel=p, stride=p)(x)))            patch embedding, N×E×(H/p)×(W/p)
  2. tokens = flatten(t) + P                                       learned 2-D position embedding P (L×E)
  3. a = multi-head self-attention over the L = (H/p)(W/p) tokens
  4. a back to N×E×(H/p)×(W/p), nearest-upsampled ×p to H×W
  5. m = Sigmoid(BN(Conv2d 1×1, E→C)(a))                          ∈ (0, 1)
  6. w = exp(m);  y = AvgPool_s(x·w) / AvgPool_s(w)                 ("nowin": y = AvgPool_s(x·w))
`form="paper"` runs exactly these steps. `form="export"` computes the same function with ops that TFLite-Micro
has in int8, and with smaller tensors:
  - step 5 runs at patch resolution (a 1×1 conv, BN and sigmoid commute with nearest upsampling);
  - m is constant on each p×p patch, so for p | s a window of s×s pixels is k×k patches (k = s/p) and, with
    a = AvgPool_p(x):  normalised y = Σ_j softmax_j(m)·a_j over the k² patches of the window, written as
    reshape/permute to (N, C, H/s, W/s, k²), SOFTMAX(-1), MUL, MEAN(-1)·k² (≤ 5-D, MEAN not SUM);
    nowin y = AvgPool_k(exp(m)·a). No H×W weight map is ever materialised. (With p = 1 this is DESIGN §3's
    window softmax over the s² pixels verbatim.) For s | p a window lies inside one patch: y = AvgPool_s(x)
    (normalised) or upsample_{p/s}(exp(m))·AvgPool_s(x) (nowin);
  - exp is a degree-6 polynomial on [0, 1] (MUL/ADD only; TFLite-Micro has no int8 EXP), max error 4.3e-8;
  - attention is explicit Linear + bmm + softmax + bmm + Linear (nn.MultiheadAttention stays float when
    quantised); the 1/√d score scale is folded into the query projection's parameters, in both forms.
With p ≥ s (and p a multiple of s) the normalised variant is exactly AvgPool_s: its attention gets no gradient.
Hence `patch_size_for` picks p < s for it; "nowin" (the official code's recommended `nlp_headfix2_nowin`) stays
meaningful at p ≥ s as a learned per-window, per-channel gain in (1, e).

Channel dependencies (for a structured pruner): the input channels C of `patch_embed.conv` and the output
channels of `restore.conv` / `restore.bn` are the pooled feature map's channels (prune them together with the
stream); the embed dim E couples `patch_embed.conv` out / `patch_embed.bn`, `pos_embed.weight` columns, the
in-features of `attention.q/k/v` and the out-features of `attention.out`, and `restore.conv` in-channels.
The attention's inner width (out-features of q/k/v = in-features of out, E at init) is a separate channel set of h
contiguous per-head slices; prune the same count from every head, in q, k and v (out) and out (in) together.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sapool.errors import BadInputError
from sapool.models.blocks import conv_bn

FORMS = ("paper", "export")
EXP_POLY_DEGREE = 6


def _exp_polynomial(degree: int) -> tuple[float, ...]:
    """Power-basis coefficients (constant first) of the Chebyshev interpolant of exp on [0, 1]."""
    fit = np.polynomial.Chebyshev.interpolate(np.exp, degree, domain=[0.0, 1.0])
    return tuple(float(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef)


EXP_COEFFICIENTS = _exp_polynomial(EXP_POLY_DEGREE)


def patch_size_for(paper_patch: int, stride: int, input_size: int, normalized: bool) -> int:
    """The paper's patch size for a stage, halved until valid here.

    Valid: p divides the feature map, windows and patches tile each other (p | s or s | p), and for the
    window-normalised variant p < s (else it is plain AvgPool, see the module docstring).
    """
    p = paper_patch
    while p > 1 and (input_size % p or (stride % p and p % stride) or (normalized and p >= stride)):
        p //= 2
    return p


class ExpUnitInterval(nn.Module):
    """exp(m) for m ∈ [0, 1] (a sigmoid output) by Horner's rule: only MUL and ADD, which TFLite-Micro has in int8.

    Float error 4.3e-8. Simulated int8 (every MUL/ADD output requantised per tensor over its range, m on the 256
    sigmoid levels): max error 0.0103 = 1.5 LSB of the output, mean 0.45 LSB — the same as degree 3 (1.56 LSB), so
    degree 6 buys float equality with the paper form at no int8 cost. The C backend can use a 256-entry table.
    """

    def forward(self, m: torch.Tensor) -> torch.Tensor:
        acc = m * EXP_COEFFICIENTS[-1] + EXP_COEFFICIENTS[-2]
        for coefficient in reversed(EXP_COEFFICIENTS[:-2]):
            acc = acc * m + coefficient
        return acc


class PositionEmbedding2d(nn.Module):
    """A learned L×E embedding added to the tokens (uniform(0, 1) init, as the official learned embedding)."""

    def __init__(self, num_tokens: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(num_tokens, dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return tokens + self.weight


class AttentionScores(nn.Module):
    """softmax(q kᵀ) per head, q: (N·h)×L×d already scaled by 1/√d. Output (N·h)×L×L: SAP's largest tensor."""

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)

    def macs(self, inputs: tuple, output: torch.Tensor) -> int:
        return output.numel() * inputs[0].shape[-1]


class AttentionMix(nn.Module):
    """The attention-weighted sum of values, (N·h)×L×L @ (N·h)×L×d."""

    def forward(self, scores: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.bmm(scores, v)

    def macs(self, inputs: tuple, output: torch.Tensor) -> int:
        return inputs[0].numel() * inputs[1].shape[-1]


class SelfAttention(nn.Module):
    """Multi-head self-attention over N×L×E tokens as explicit projections (export-friendly, ≤ 4-D tensors).

    Same function as nn.MultiheadAttention with q's weight and bias pre-multiplied by 1/√d (d = E/h).
    """

    def __init__(self, dim: int, heads: int, num_tokens: int) -> None:
        super().__init__()
        self.heads, self.num_tokens = heads, num_tokens
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.scores, self.mix = AttentionScores(), AttentionMix()
        for linear in (self.q, self.k, self.v, self.out):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
        with torch.no_grad():
            self.q.weight.mul_(1.0 / math.sqrt(self.head_dim))

    @property
    def head_dim(self) -> int:
        """d = E/h, read from the projections so that a pruner only has to shrink the Linear layers."""
        return self.q.out_features // self.heads

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mixed = self.mix(self.scores(self._heads(self.q(tokens)), self._heads(self.k(tokens))),
                         self._heads(self.v(tokens)))
        mixed = mixed.reshape(-1, self.heads, self.num_tokens, self.head_dim).permute(0, 2, 1, 3)
        return self.out(mixed.reshape(-1, self.num_tokens, self.heads * self.head_dim))

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        """N×L×E → (N·h)×L×d."""
        t = t.reshape(-1, self.num_tokens, self.heads, self.head_dim).permute(0, 2, 1, 3)
        return t.reshape(-1, self.num_tokens, self.head_dim)


class WindowSoftmaxPool(nn.Module):
    """y = Σ softmax(m)·x over each k×k window: AvgPool_k(x·e^m) / AvgPool_k(e^m) without EXP or DIV.

    Windows go to the last axis of a 5-D view (N, C, H/k, W/k, k²); MEAN(-1)·k² instead of SUM (TFLite-Micro's int8
    SUM differs from the reference kernels).
    """

    def __init__(self, window: int) -> None:
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        k = self.window
        channels, rows, cols = x.shape[1], x.shape[2] // k, x.shape[3] // k

        def windows(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(-1, k, cols, k).permute(0, 2, 1, 3).reshape(-1, channels, rows, cols, k * k)

        return (torch.softmax(windows(m), dim=-1) * windows(x)).mean(dim=-1) * (k * k)


class ExpWeightedAvgPool(nn.Module):
    """Paper step 6 on full-resolution x and m: w = exp(m); AvgPool_s(x·w) / AvgPool_s(w), or AvgPool_s(x·w)."""

    def __init__(self, stride: int, normalized: bool) -> None:
        super().__init__()
        self.stride, self.normalized = stride, normalized

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        w = torch.exp(m)
        pooled = F.avg_pool2d(x * w, self.stride)
        return pooled / F.avg_pool2d(w, self.stride) if self.normalized else pooled


class PatchWindowPool(nn.Module):
    """Export step 6 in two calls: `patch_means(x)` = AvgPool_min(p, s)(x), then `forward(means, m)` pools them with
    the patch-resolution attention map m (see the module docstring).

    SAPool takes the means before running the attention, so the full-resolution x is dead by then (it is the
    largest tensor around: in execution order this halves the layer's int8 peak). The stride-changing steps are
    modules (AvgPool2d, Upsample) so that hooks see every resolution change.
    """

    def __init__(self, stride: int, patch_size: int, normalized: bool) -> None:
        super().__init__()
        self.stride, self.patch_size, self.normalized = stride, patch_size, normalized
        windows_per_patch = max(1, patch_size // stride)
        patches_per_window = max(1, stride // patch_size)
        smallest = min(stride, patch_size)
        self.patch_mean = nn.AvgPool2d(smallest) if smallest > 1 else None
        if normalized:  # one patch per window (p >= s) leaves plain AvgPool_s: the degenerate case
            self.window_softmax = WindowSoftmaxPool(patches_per_window) if patches_per_window > 1 else None
            return
        self.exp = ExpUnitInterval()
        self.window_mean = nn.AvgPool2d(patches_per_window) if patches_per_window > 1 else None
        self.upsample = nn.Upsample(scale_factor=windows_per_patch) if windows_per_patch > 1 else None

    def patch_means(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch_mean(x) if self.patch_mean is not None else x

    def forward(self, means: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        if self.normalized:
            return self.window_softmax(means, m) if self.window_softmax is not None else means
        gain = self.exp(m)
        if self.upsample is not None:  # p > s: each window lies inside one patch
            return self.upsample(gain) * means
        weighted = gain * means
        return self.window_mean(weighted) if self.window_mean is not None else weighted


class SAPool(nn.Module):
    """Self-attentive pooling, C×H×W → C×(H/s)×(W/s). `normalized=False` is the paper's "nowin" variant.

    `input_size` (H or (H, W)) fixes the token grid for the L×E position embedding. `form` ("paper" or
    "export", see `set_sap_form`) only changes how the same function is computed.
    """

    def __init__(self, channels: int, stride: int, input_size: int | tuple[int, int], patch_size: int, *,
                 heads: int = 2, embed_ratio: float = 1.0, normalized: bool = True, form: str = "paper") -> None:
        super().__init__()
        height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
        _check_geometry(channels, stride, (height, width), patch_size, heads, embed_ratio)
        if form not in FORMS:
            raise BadInputError(f"SAP form must be one of {', '.join(FORMS)}; got {form!r}")
        self.stride, self.patch_size, self.normalized, self.form = stride, patch_size, normalized, form
        self.grid = (height // patch_size, width // patch_size)
        embed_dim = heads * max(1, round(embed_ratio * channels / heads))
        num_tokens = self.grid[0] * self.grid[1]
        self.patch_embed = conv_bn(channels, embed_dim, patch_size, patch_size, padding=0, act=nn.ReLU)
        self.pos_embed = PositionEmbedding2d(num_tokens, embed_dim)
        self.attention = SelfAttention(embed_dim, heads, num_tokens)
        self.upsample = nn.Upsample(scale_factor=patch_size, mode="nearest")
        self.restore = conv_bn(embed_dim, channels, 1, act=nn.Sigmoid)
        self.paper_pool = ExpWeightedAvgPool(stride, normalized)
        self.export_pool = PatchWindowPool(stride, patch_size, normalized)

    @property
    def channels(self) -> int:
        """C, read from the modules (as is E) so that a pruner only has to shrink the convs and Linears."""
        return self.patch_embed.conv.in_channels

    @property
    def embed_dim(self) -> int:
        return self.patch_embed.conv.out_channels

    @property
    def degenerate(self) -> bool:
        """True when the output is plain AvgPool_s whatever the parameters (normalised with p ≥ s)."""
        return self.normalized and self.patch_size >= self.stride

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Steps 1–4 up to the upsampling: attended patch features, N×E×(H/p)×(W/p)."""
        tokens = self.pos_embed(self.patch_embed(x).flatten(2).transpose(1, 2))
        attended = self.attention(tokens).transpose(1, 2)
        return attended.reshape(-1, self.embed_dim, self.grid[0], self.grid[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.form == "paper":
            return self.paper_pool(x, self.restore(self.upsample(self.attend(x))))
        means = self.export_pool.patch_means(x)
        if self.degenerate:  # the attention map cannot change the output: don't compute it
            return means
        return self.export_pool(means, self.restore(self.attend(x)))

    def extra_repr(self) -> str:
        variant = "normalized" if self.normalized else "nowin"
        return f"channels={self.channels}, stride={self.stride}, patch={self.patch_size}, {variant}, form={self.form}"


def _check_geometry(channels: int, stride: int, size: tuple[int, int], patch: int, heads: int,
                    embed_ratio: float) -> None:
    if channels < 1 or stride < 1 or patch < 1 or heads < 1 or not embed_ratio > 0:
        raise BadInputError(f"SAP needs positive channels, stride, patch size, heads and embed ratio; got "
                            f"{channels}, {stride}, {patch}, {heads}, {embed_ratio}")
    if stride % patch and patch % stride:
        raise BadInputError(f"SAP patch size {patch} and stride {stride} must divide one another")
    if any(side % stride or side % patch for side in size):
        raise BadInputError(f"SAP input {size[0]}×{size[1]} must be a multiple of stride {stride} and patch {patch}")


def set_sap_form(model: nn.Module, form: str) -> None:
    """Switch every SAPool in `model` to "paper" or "export"; parameters are untouched."""
    if form not in FORMS:
        raise BadInputError(f"SAP form must be one of {', '.join(FORMS)}; got {form!r}")
    for module in model.modules():
        if isinstance(module, SAPool):
            module.form = form


def set_export_form(model: nn.Module) -> None:
    """The form to trace for int8 TFLite export (and for memory profiling)."""
    set_sap_form(model, "export")


@contextmanager
def sap_form(model: nn.Module, form: str) -> Iterator[nn.Module]:
    """Temporarily switch every SAPool in `model` to `form`, restoring each one's previous form afterwards."""
    saps = [module for module in model.modules() if isinstance(module, SAPool)]
    previous = [module.form for module in saps]
    set_sap_form(model, form)
    try:
        yield model
    finally:
        for module, old in zip(saps, previous):
            module.form = old
