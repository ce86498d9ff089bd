"""The scale hyperprior model (Balle et al., "Variational image compression with a scale
hyperprior", ICLR 2018), in CompressAI's ``ScaleHyperprior`` layout.

g_a: four 5x5 stride-2 convolutions with GDN between them, image [B, 3, H, W] in [0, 1] ->
y [B, M, H/16, W/16]. h_a: |y| -> z [B, N, H/64, W/64] (3x3 stride 1, then two 5x5 stride 2,
ReLU between). h_s mirrors h_a and ends in a ReLU: the scales of y. g_s mirrors g_a with IGDN.

Two rate knobs, which compose:

- ``level``, for a model built with ``HyperpriorConfig(levels=L)``: gain units
  (:mod:`.gain`, Cui et al., CVPR 2021) on y and on z, one gain vector per training lambda, so
  that one model covers the whole range of rates, continuously between its levels. y is multiplied
  by the level's gains before the hyper-analysis and the quantiser, z likewise before its
  quantiser; the decoder multiplies by the inverse gains. A model with ``levels=0`` (the shipped
  ``q1``-``q3`` and ``residual`` weights) has no gain units and no level.
- ``step``: a uniform quantisation step of y (after the gains): y is coded as round(y / step)
  under scales / step and multiplied back (``hyperprior_residual``'s knob).

The entropy models always run in float32, also under a caller's bf16 autocast (the trainer's):
the likelihoods, and so the rate term, keep full precision; the transforms take the autocast.

Weights files (``weights/hyperprior_<rate>.pt``, one per row of :data:`.zoo.ZOO`) hold ``{"config": dict, "state_dict": fp16
tensors, "info": dict}`` and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

__all__ = [
    "DOWNSAMPLING",
    "Gains",
    "HyperpriorConfig",
    "Level",
    "ScaleHyperprior",
]

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from source_codecs.hyperprior.bitstream import bytes_to_words, words_to_bytes
from source_codecs.hyperprior.entropy_bottleneck import EntropyBottleneck
from source_codecs.hyperprior.gain import GainUnits
from source_codecs.hyperprior.gaussian_conditional import GaussianConditional
from source_codecs.hyperprior.gdn import GDN
from source_codecs.weights_io import export_weights, load_model

DOWNSAMPLING = 64
"""Downsampling of z; image sizes are padded to multiples of it."""


@dataclass(frozen=True)
class HyperpriorConfig:
    """Architecture of one model.

    :param n: N, channels of the hidden layers and of z.
    :param m: M, channels of y.
    :param levels: rate levels of the gain units on y and z (one per training lambda); 0: no gain
        units, a model of one lambda.
    """

    n: int = 64
    m: int = 96
    levels: int = 0


Level = float | torch.Tensor
"""A rate level in [0, levels - 1]: one for the batch, or a float tensor [B] of one per image."""


class Gains(NamedTuple):
    """The multipliers of y and z at one rate level: [B, C, 1, 1] tensors, or 1.0 for a model
    without gain units."""

    y: torch.Tensor | float
    y_inverse: torch.Tensor | float
    z: torch.Tensor | float
    z_inverse: torch.Tensor | float


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
    :input level: the rate level (see :data:`Level`) of a model with gain units; None for one
        without.
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
        if config.levels:
            self.gain_y = GainUnits(config.levels, m)
            self.gain_z = GainUnits(config.levels, n)

    def forward(
        self, x: torch.Tensor, step: float = 1.0, level: Level | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """See the class docstring; ``step`` is the quantisation step of y (1: integers)."""
        y = self.g_a(x).float()
        gains = self.gains(level, y.shape[0], torch.float32)
        y = y * gains.y
        z = self.h_a(torch.abs(y)).float() * gains.z
        with _full_precision(x):
            z_tilde, z_likelihoods = self.entropy_bottleneck(z)
        scales = self.h_s(z_tilde * gains.z_inverse).float()
        with _full_precision(x):
            y_tilde, y_likelihoods = self.gaussian_conditional(y / step, scales / step)
        x_hat = self.g_s(y_tilde * (step * gains.y_inverse)).float()
        return x_hat, {"y": y_likelihoods, "z": z_likelihoods}

    def gains(self, level: Level | None, batch: int, dtype: torch.dtype) -> Gains:
        """The gains of ``level`` (interpolated between levels), ``dtype``, on the gain units'
        device (the CPU after :meth:`place_transforms`).

        :param level: see :data:`Level`; None for a model without gain units.
        :param batch: B, images the gains are for (a float ``level`` serves them all).
        :raises ValueError: a level for a model without gain units, or none for one with.
        """
        if not self.config.levels:
            if level is not None:
                raise ValueError("this model has no rate levels (HyperpriorConfig.levels = 0)")
            return Gains(1.0, 1.0, 1.0, 1.0)
        if level is None:
            raise ValueError(f"this model needs a rate level in [0, {self.config.levels - 1}]")
        device = self.gain_y.log_gain.device
        levels = torch.as_tensor(level, dtype=dtype, device=device).reshape(-1).expand(batch)
        return Gains(*self.gain_y(levels), *self.gain_z(levels))

    def place_transforms(self, device: str | torch.device) -> ScaleHyperprior:
        """Move the analysis and synthesis transforms (g_a, h_a, g_s) to ``device``; returns the
        model. The entropy models, the gain units and the hyper-synthesis h_s stay on the CPU: the
        coder's probabilities must come out the same in every encoder and decoder
        (:meth:`scale_indexes`)."""
        for transform in (self.g_a, self.h_a, self.g_s):
            transform.to(device)
        return self

    @torch.no_grad()
    def compress(
        self, x: torch.Tensor, step: float = 1.0, level: float | None = None
    ) -> tuple[bytes, bytes]:
        """Entropy-coded z and y of one image.

        The analysis transforms run where the model is; the gains and the entropy coding on the
        CPU.

        :param x: [1, 3, H, W], float in [0, 1], any H and W (edge-padded to multiples of 64).
        :param step: quantisation step of y (the decoder must be given the same).
        :param level: rate level of a model with gain units (the decoder must be given the same).
        :return: (z stream, y stream), bytes (see :mod:`.bitstream`).
        """
        return self.compress_latent(self.analyse(x), step, level)

    @torch.no_grad()
    def analyse(self, x: torch.Tensor) -> torch.Tensor:
        """The analysis transform, where the model is: y float32 [1, M, H', W'] on the CPU of an
        image [1, 3, H, W] in [0, 1] (edge-padded; H', W': the padded size / 16). It does not
        depend on the rate: rate control over ``step`` or ``level`` runs it once per image."""
        return self.g_a(_pad(x).to(_device(self.g_a))).cpu()

    @torch.no_grad()
    def compress_latent(
        self, y: torch.Tensor, step: float = 1.0, level: float | None = None
    ) -> tuple[bytes, bytes]:
        """:meth:`compress` from the output of :meth:`analyse`: (z stream, y stream)."""
        gains = self.gains(level, 1, torch.float32)
        y = y * gains.y
        z = self.h_a(torch.abs(y).to(_device(self.h_a))).cpu() * gains.z
        eb, gc = self.entropy_bottleneck, self.gaussian_conditional
        z_symbols = eb.symbols(z)
        indexes = self.scale_indexes(eb.dequantize(z_symbols), step, level)
        y_words = gc.encode(gc.symbols(y / step), indexes)
        return words_to_bytes(eb.encode(z_symbols)), words_to_bytes(y_words)

    @torch.no_grad()
    def decompress(
        self,
        z_stream: bytes,
        y_stream: bytes,
        height: int,
        width: int,
        step: float = 1.0,
        level: float | None = None,
    ) -> torch.Tensor:
        """The image from the streams of :meth:`compress`: [1, 3, height, width] in [0, 1], on the
        CPU (:meth:`entropy_decode`, then :meth:`synthesise`).

        Constriction may raise (``AssertionError``, ``ValueError``, ``RuntimeError``, ...) on
        streams no encoder wrote; a corrupted stream otherwise decodes to some image.
        """
        y_hat = self.entropy_decode(z_stream, y_stream, height, width, step, level)
        return self.synthesise(y_hat, height, width)

    def entropy_decode(
        self,
        z_stream: bytes,
        y_stream: bytes,
        height: int,
        width: int,
        step: float = 1.0,
        level: float | None = None,
    ) -> torch.Tensor:
        """The decoder's CPU half: z, the scales of y from it, then y (times the step and the
        inverse gains).

        :param step: the quantisation step :meth:`compress` was given.
        :param level: the rate level :meth:`compress` was given.
        :return: y_hat, float32 [1, M, H', W'] on the CPU (H', W': the padded size / 16).
        :raises: what constriction raises on streams no encoder wrote (see :meth:`decompress`).
        """
        padded_h, padded_w = _padded(height), _padded(width)
        eb, gc = self.entropy_bottleneck, self.gaussian_conditional
        z_shape = (1, self.config.n, padded_h // DOWNSAMPLING, padded_w // DOWNSAMPLING)
        z_hat = eb.dequantize(eb.decode(bytes_to_words(z_stream), z_shape))
        symbols = gc.decode(bytes_to_words(y_stream), self.scale_indexes(z_hat, step, level))
        y_inverse = self.gains(level, 1, torch.float32).y_inverse
        return torch.from_numpy(symbols.astype("float32")) * (step * y_inverse)

    @torch.no_grad()
    def synthesise(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The synthesis transform, where the model is, on a batch of latents.

        :param y_hat: float32 [B, M, H', W'] from :meth:`entropy_decode` (any device).
        :return: [B, 3, height, width] in [0, 1], on the CPU.
        """
        x_hat = self.g_s(y_hat.to(_device(self.g_s)))
        return x_hat[:, :, :height, :width].clamp(0, 1).cpu()

    def scale_indexes(
        self, z_hat: torch.Tensor, step: float = 1.0, level: float | None = None
    ) -> np.ndarray:
        """Scale-table indexes of y / ``step`` from the decoded z_hat [1, N, h, w] (before its
        inverse gains): int64 [1, M, 4h, 4w].

        The inverse gains and the hyper-synthesis run in float64 here, so that the encoder and a
        decoder in another process (other thread count, other kernels) land on the same table
        entries: a scale would have to fall within about 1e-15 of a table boundary for their
        float64 values to disagree.
        """
        z_inverse = self.gains(level, 1, torch.float64).z_inverse
        params = {k: v.double() for k, v in self.h_s.state_dict().items()}
        scales = torch.func.functional_call(self.h_s, params, (z_hat.double() * z_inverse,))
        return self.gaussian_conditional.scale_indexes(scales / step)

    def aux_loss(self) -> torch.Tensor:
        """The entropy bottleneck's quantile loss (scalar)."""
        return self.entropy_bottleneck.aux_loss()

    def export(self, path: Path, info: dict[str, Any] | None = None) -> None:
        """Write the fp16 weights file (see the module docstring). The quantiles (they set the
        coder's support and medians) and the gains (a few hundred numbers) stay float32."""
        state = self.state_dict()
        exact = [k for k in state if k == "entropy_bottleneck.quantiles" or k.startswith("gain_")]
        export_weights(path, self.config, state, info, float32=exact)

    @classmethod
    def load(cls, path: Path, device: str | torch.device = "cpu") -> ScaleHyperprior:
        """A model in eval mode, float32, from a weights file written by :meth:`export`."""
        return load_model(path, lambda config: cls(HyperpriorConfig(**config)), device)


def _full_precision(x: torch.Tensor) -> torch.autocast:
    """A region where autocast is off on ``x``'s device type (the entropy models' float32)."""
    return torch.autocast(x.device.type, enabled=False)


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
