"""The scale hyperprior model (Balle et al., "Variational image compression with a scale
hyperprior", ICLR 2018), in CompressAI's ``ScaleHyperprior`` layout.

g_a: four 5x5 stride-2 convolutions with GDN between them, image [B, 3, H, W] in [0, 1] ->
y [B, M, H/16, W/16]. h_a: |y| -> z [B, N, H/64, W/64] (3x3 stride 1, then two 5x5 stride 2,
ReLU between). h_s mirrors h_a and ends in a ReLU: the scales of y. g_s mirrors g_a with IGDN.

Weights files (``weights/hyperprior_<rate>.pt``, one per row of :data:`.zoo.ZOO`) hold ``{"config": dict, "state_dict": fp16
tensors, "info": dict}`` and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

__all__ = [
    "DOWNSAMPLING",
    "HyperpriorConfig",
    "ScaleHyperprior",
]

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from source_codecs.hyperprior.bitstream import bytes_to_words, words_to_bytes
from source_codecs.hyperprior.entropy_bottleneck import EntropyBottleneck
from source_codecs.hyperprior.gaussian_conditional import GaussianConditional
from source_codecs.hyperprior.gdn import GDN
from source_codecs.weights_io import export_weights, load_model

DOWNSAMPLING = 64
"""Downsampling of z; image sizes are padded to multiples of it."""


@dataclass(frozen=True)
class HyperpriorConfig:
    """Architecture of one rate point.

    :param n: N, channels of the hidden layers and of z.
    :param m: M, channels of y.
    """

    n: int = 64
    m: int = 96


def _conv(cin: int, cout: int, kernel: int = 5, stride: int = 2) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2)


def _deconv(cin: int, cout: int, kernel: int = 5, stride: int = 2) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, kernel, stride, kernel // 2, output_padding=stride - 1)


class ScaleHyperprior(nn.Module):
    """Transforms and entropy models of the scale hyperprior.

    :param config: the architecture.
    :input x: [B, 3, H, W], float in [0, 1], H and W multiples of 64.
    :input step: quantisation step of y, float > 0 (1 = integers; larger: fewer bits, more
        distortion; a model trained over a range of steps has a rate knob without retraining).
    :output x_hat: [B, 3, H, W], float (not clamped).
    :output likelihoods: {"y": [B, M, H/16, W/16], "z": [B, N, H/64, W/64]}, float in (0, 1].

    >>> model = ScaleHyperprior(HyperpriorConfig(n=16, m=24))
    >>> x_hat, likelihoods = model(torch.rand(1, 3, 64, 128))
    >>> x_hat.shape, likelihoods["y"].shape, likelihoods["z"].shape
    (torch.Size([1, 3, 64, 128]), torch.Size([1, 24, 4, 8]), torch.Size([1, 16, 1, 2]))
    """

    def __init__(self, config: HyperpriorConfig) -> None:
        super().__init__()
        self.config = config
        n, m = config.n, config.m
        self.g_a = nn.Sequential(
            _conv(3, n), GDN(n), _conv(n, n), GDN(n), _conv(n, n), GDN(n), _conv(n, m)
        )
        self.g_s = nn.Sequential(
            _deconv(m, n),
            GDN(n, inverse=True),
            _deconv(n, n),
            GDN(n, inverse=True),
            _deconv(n, n),
            GDN(n, inverse=True),
            _deconv(n, 3),
        )
        self.h_a = nn.Sequential(_conv(m, n, 3, 1), nn.ReLU(), _conv(n, n), nn.ReLU(), _conv(n, n))
        self.h_s = nn.Sequential(
            _deconv(n, n), nn.ReLU(), _deconv(n, n), nn.ReLU(), _conv(n, m, 3, 1), nn.ReLU()
        )
        self.entropy_bottleneck = EntropyBottleneck(n)
        self.gaussian_conditional = GaussianConditional()

    def forward(
        self, x: torch.Tensor, step: float = 1.0
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """See the class docstring; ``step`` is the quantisation step of y (1: integers)."""
        y = self.g_a(x)
        z = self.h_a(torch.abs(y))
        z_tilde, z_likelihoods = self.entropy_bottleneck(z)
        scales = self.h_s(z_tilde)
        y_tilde, y_likelihoods = self.gaussian_conditional(y / step, scales / step)
        return self.g_s(y_tilde * step), {"y": y_likelihoods, "z": z_likelihoods}

    def place_transforms(self, device: str | torch.device) -> ScaleHyperprior:
        """Move the analysis and synthesis transforms (g_a, h_a, g_s) to ``device``; returns the
        model. The entropy models and the hyper-synthesis h_s stay on the CPU: the coder's
        probabilities must come out the same in every encoder and decoder (:meth:`scale_indexes`)."""
        for transform in (self.g_a, self.h_a, self.g_s):
            transform.to(device)
        return self

    @torch.no_grad()
    def compress(self, x: torch.Tensor, step: float = 1.0) -> tuple[bytes, bytes]:
        """Entropy-coded z and y of one image.

        The analysis transforms run where the model is; the entropy coding on the CPU.

        :param x: [1, 3, H, W], float in [0, 1], any H and W (edge-padded to multiples of 64).
        :param step: quantisation step of y (the decoder must be given the same).
        :return: (z stream, y stream), bytes (see :mod:`.bitstream`).
        """
        y = self.g_a(_pad(x).to(_device(self.g_a)))
        z = self.h_a(torch.abs(y)).cpu()
        y = y.cpu()
        eb, gc = self.entropy_bottleneck, self.gaussian_conditional
        z_symbols = eb.symbols(z)
        indexes = self.scale_indexes(eb.dequantize(z_symbols), step)
        y_words = gc.encode(gc.symbols(y / step), indexes)
        return words_to_bytes(eb.encode(z_symbols)), words_to_bytes(y_words)

    @torch.no_grad()
    def decompress(
        self, z_stream: bytes, y_stream: bytes, height: int, width: int, step: float = 1.0
    ) -> torch.Tensor:
        """The image from the streams of :meth:`compress`: [1, 3, height, width] in [0, 1], on the
        CPU (:meth:`entropy_decode`, then :meth:`synthesise`).

        Constriction may raise (``AssertionError``, ``ValueError``, ``RuntimeError``, ...) on
        streams no encoder wrote; a corrupted stream otherwise decodes to some image.
        """
        y_hat = self.entropy_decode(z_stream, y_stream, height, width, step)
        return self.synthesise(y_hat, height, width)

    def entropy_decode(
        self, z_stream: bytes, y_stream: bytes, height: int, width: int, step: float = 1.0
    ) -> torch.Tensor:
        """The decoder's CPU half: z, the scales of y from it, then y.

        :param step: the quantisation step :meth:`compress` was given.
        :return: y_hat, float32 [1, M, H', W'] on the CPU (H', W': the padded size / 16).
        :raises: what constriction raises on streams no encoder wrote (see :meth:`decompress`).
        """
        padded_h, padded_w = _padded(height), _padded(width)
        eb, gc = self.entropy_bottleneck, self.gaussian_conditional
        z_shape = (1, self.config.n, padded_h // DOWNSAMPLING, padded_w // DOWNSAMPLING)
        z_hat = eb.dequantize(eb.decode(bytes_to_words(z_stream), z_shape))
        symbols = gc.decode(bytes_to_words(y_stream), self.scale_indexes(z_hat, step))
        return torch.from_numpy(symbols.astype("float32")) * step

    @torch.no_grad()
    def synthesise(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The synthesis transform, where the model is, on a batch of latents.

        :param y_hat: float32 [B, M, H', W'] from :meth:`entropy_decode` (any device).
        :return: [B, 3, height, width] in [0, 1], on the CPU.
        """
        x_hat = self.g_s(y_hat.to(_device(self.g_s)))
        return x_hat[:, :, :height, :width].clamp(0, 1).cpu()

    def scale_indexes(self, z_hat: torch.Tensor, step: float = 1.0) -> np.ndarray:
        """Scale-table indexes of y / ``step`` from the decoded z_hat [1, N, h, w]: int64
        [1, M, 4h, 4w].

        The hyper-synthesis runs in float64 here, so that the encoder and a decoder in another
        process (other thread count, other kernels) land on the same table entries: a scale would
        have to fall within about 1e-15 of a table boundary for their float64 values to disagree.
        """
        params = {k: v.double() for k, v in self.h_s.state_dict().items()}
        scales = torch.func.functional_call(self.h_s, params, (z_hat.double(),))
        return self.gaussian_conditional.scale_indexes(scales / step)

    def aux_loss(self) -> torch.Tensor:
        """The entropy bottleneck's quantile loss (scalar)."""
        return self.entropy_bottleneck.aux_loss()

    def export(self, path: Path, info: dict[str, Any] | None = None) -> None:
        """Write the fp16 weights file (see the module docstring). The quantiles stay float32:
        they set the coder's support and medians."""
        quantiles = "entropy_bottleneck.quantiles"
        export_weights(path, self.config, self.state_dict(), info, float32=(quantiles,))

    @classmethod
    def load(cls, path: Path, device: str | torch.device = "cpu") -> ScaleHyperprior:
        """A model in eval mode, float32, from a weights file written by :meth:`export`."""
        return load_model(path, lambda config: cls(HyperpriorConfig(**config)), device)


def _device(module: nn.Module) -> torch.device:
    """Where ``module`` 's parameters are."""
    return next(module.parameters()).device


def _padded(size: int) -> int:
    """``size`` rounded up to a multiple of :data:`DOWNSAMPLING`."""
    return -(-size // DOWNSAMPLING) * DOWNSAMPLING


def _pad(x: torch.Tensor) -> torch.Tensor:
    """Edge-pad [B, 3, H, W] at the bottom and right to multiples of :data:`DOWNSAMPLING`."""
    h, w = x.shape[-2:]
    return F.pad(x, (0, _padded(w) - w, 0, _padded(h) - h), mode="replicate")
