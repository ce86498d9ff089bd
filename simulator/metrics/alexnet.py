"""AlexNet feature stacks for LPIPS: the torchvision layout and the shift-tolerant one of ST-LPIPS.

LPIPS compares the activations after the five ReLUs of AlexNet's convolutional trunk. Two trunks are
built here, with module names chosen so that the published state dicts load *strictly*:

- ``"vanilla"``: torchvision's ``alexnet().features`` (conv 11x11 stride 4, max-pool stride 2), the
  trunk of the official LPIPS v0.1.
- ``"shift_tolerant"``: the trunk of ST-LPIPS (Ghildyal and Liu, ECCV 2022; variant
  "antialiased_blurpoolReflectionPad2_conv1stride1_blurAfter"). The first convolution runs at stride 1
  and every subsampling is done by :class:`BlurPool2d` (3x3 binomial low-pass, reflection padding of 2
  on each side, stride 2); the max-pools run at stride 1 (:class:`MaxPool3x3`) followed by a blur-pool. This is what makes
  the features, and the distance, tolerant to small shifts of the input.
"""

from __future__ import annotations

__all__ = ["AlexNetFeatures", "BlurPool2d", "MaxPool3x3"]

from collections import OrderedDict
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

AlexNetVariant = Literal["vanilla", "shift_tolerant"]

CHANNELS: tuple[int, ...] = (64, 192, 384, 256, 256)
"""Channels of the five compared activations (relu1 ... relu5)."""


class BlurPool2d(nn.Module):
    """Anti-aliased 2x subsampling (Zhang, ICML 2019) with the padding used by ST-LPIPS.

    Reflection-pads the input by 2 px on every side, filters each channel with the normalised 3x3
    binomial kernel ``[1, 2, 1]^T [1, 2, 1] / 16`` and keeps every second sample.

    :param channels: Number of input channels ``C`` (the filter is depthwise).

    :input x: [B, C, H, W], float.
    :output y: [B, C, (H + 1) // 2 + 1, (W + 1) // 2 + 1], float.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = taps[:, None] * taps[None, :]
        kernel = kernel / kernel.sum()
        # Named "filt" and stored per channel, as in the published weights (a fixed buffer).
        self.register_buffer("filt", kernel[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Blur and subsample ``x`` [B, C, H, W]."""
        x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        return F.conv2d(x, self.filt, stride=2, groups=x.shape[1])


class MaxPool3x3(nn.Module):
    """``nn.MaxPool2d(kernel_size=3, stride=1)`` computed separably: the maximum over each 3-row
    window, then over each 3-column window of that. A maximum is exact, so the values are those of
    ``nn.MaxPool2d`` bit for bit (NaN propagates too), at a fraction of its CPU time: measured
    8-19x faster on one thread on the ST-LPIPS trunk's [1, 64, 126, 254] and [1, 192, 63, 127]
    activations (2026-12-04; at 2 threads ST-LPIPS 181-206 -> 148-164 ms per image, ``benchmarks/results/throughput.md``).

    :input x: [B, C, H, W], float, H and W at least 3.
    :output y: [B, C, H - 2, W - 2], float.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The 3x3 sliding-window maximum of ``x`` [B, C, H, W], no padding."""
        rows = torch.maximum(torch.maximum(x[..., :-2, :], x[..., 1:-1, :]), x[..., 2:, :])
        return torch.maximum(torch.maximum(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])


def _conv3x3_layers() -> list[nn.Module]:
    """The last three convolutions (3x3, padding 1) and their ReLUs, the same in both trunks."""
    layers: list[nn.Module] = []
    for c_in, c_out in ((192, 384), (384, 256), (256, 256)):
        layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU()]
    return layers


def _vanilla_layers() -> tuple[list[nn.Module], tuple[int, ...]]:
    """torchvision's AlexNet ``features`` and the slice boundaries after relu1 ... relu5."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        *_conv3x3_layers(),
    ]
    return layers, (0, 2, 5, 8, 10, 12)


def _shift_tolerant_layers() -> tuple[list[nn.Module], tuple[int, ...]]:
    """The ST-LPIPS AlexNet trunk and the slice boundaries after relu1 ... relu5."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, kernel_size=11, stride=1, padding=2),
        BlurPool2d(64),
        nn.ReLU(),
        MaxPool3x3(),
        BlurPool2d(64),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(),
        MaxPool3x3(),
        BlurPool2d(192),
        *_conv3x3_layers(),
    ]
    return layers, (0, 3, 7, 11, 13, 15)


class AlexNetFeatures(nn.Module):
    """The five ReLU activations of an AlexNet trunk, as LPIPS uses them.

    The layers sit in ``slice1`` ... ``slice5`` (``nn.Sequential``), each layer keeping its index in
    the full stack as its name (``slice2.5`` is the second convolution of the shift-tolerant trunk),
    which is the naming of the LPIPS and ST-LPIPS state dicts.

    :param variant: ``"vanilla"`` (torchvision / LPIPS v0.1) or ``"shift_tolerant"`` (ST-LPIPS).

    :input x: [B, 3, H, W], float, already normalised by the LPIPS scaling layer.
    :output features: list of five tensors [B, C_k, H_k, W_k], C_k = 64, 192, 384, 256, 256.
    """

    def __init__(self, variant: AlexNetVariant = "shift_tolerant") -> None:
        super().__init__()
        builders = {"vanilla": _vanilla_layers, "shift_tolerant": _shift_tolerant_layers}
        if variant not in builders:
            raise ValueError(
                f"AlexNetFeatures: unknown variant {variant!r}; choose from {sorted(builders)}"
            )
        self.variant = variant
        layers, bounds = builders[variant]()
        for k in range(5):
            named = OrderedDict((str(i), layers[i]) for i in range(bounds[k], bounds[k + 1]))
            self.add_module(f"slice{k + 1}", nn.Sequential(named))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Run the trunk; return the activations after relu1 ... relu5."""
        features = []
        for k in range(1, 6):
            x = getattr(self, f"slice{k}")(x)
            features.append(x)
        return features
