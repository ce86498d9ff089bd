"""The deep JSCC model: encoder, symbol mapping and decoder in one module, with its weights file.

Weights files (``weights/deepjscc.pt``) hold ``{"config": dict, "state_dict": fp16 tensors,
"info": dict}`` and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

__all__ = ["DOWNSAMPLING", "DeepJSCC", "DeepJSCCConfig", "shipped_weights"]

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from source_codecs.deepjscc.decoder import Decoder
from source_codecs.deepjscc.encoder import Encoder
from source_codecs.deepjscc.symbols import latent_to_symbols, normalize_power, received_features
from source_codecs.weights_io import export_weights, load_model

WEIGHTS_DIR = Path(__file__).parent / "weights"
DOWNSAMPLING = 8
"""Spatial downsampling of the latent; image sizes are padded (replicate) to multiples of it."""


@dataclass(frozen=True)
class DeepJSCCConfig:
    """Architecture.

    :param latent_channels: C_max, complex symbols per latent position. Capacity = C_max symbols per
        8x8 block = C_max / 192 symbols per real source dimension: 8 gives rho up to 1/24.
    :param width: feature channels of the encoder and decoder at 1/8 resolution.
    :param blocks: residual blocks at 1/8 resolution in each of the encoder and the decoder (0: the
        shallow network of the first shipped weights, whose files have no such key).
    """

    latent_channels: int = 8
    width: int = 64
    blocks: int = 0


class DeepJSCC(nn.Module):
    r"""One SNR-adaptive deep JSCC model for every K up to its capacity.

    The encoder's latent is read out in channel-major order (:func:`latent_to_symbols`) and cut to
    the first K symbols, which are normalised to unit average energy per image; the decoder sees the
    dropped symbols as zeros with zero gain (:func:`received_features`). Both networks are told the
    SNR through their :class:`~source_codecs.deepjscc.af_module.AFModule`\ s.

    :param config: the architecture.

    >>> model = DeepJSCC(DeepJSCCConfig()).eval()
    >>> image = torch.rand(2, 3, 60, 100)                  # padded to 64 x 104 inside
    >>> snr = torch.tensor([0.0, 10.0])
    >>> x = model.encode(image, 500, snr)                   # complex64 [2, 500]
    >>> y = model.decode(x, torch.full((2, 500), 0.1), snr, 60, 100)
    >>> y.shape
    torch.Size([2, 3, 60, 100])
    """

    def __init__(self, config: DeepJSCCConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.latent_channels, config.width, config.blocks)
        self.decoder = Decoder(config.latent_channels, config.width, config.blocks)

    def capacity(self, height: int, width: int) -> int:
        """The largest K for an image of ``height`` x ``width`` pixels: C_max per padded 8x8 block."""
        h, w = _padded(height), _padded(width)
        return self.config.latent_channels * (h // DOWNSAMPLING) * (w // DOWNSAMPLING)

    def encode(self, image: torch.Tensor, num_symbols: int, snr_db: torch.Tensor) -> torch.Tensor:
        """Channel symbols of a batch.

        :param image: [B, 3, H, W], float32 in [0, 1].
        :param num_symbols: K, at most :meth:`capacity`.
        :param snr_db: [B], float32, channel SNR in dB.
        :return: [B, K], complex64, each row of unit average energy.
        :raises ValueError: K is above the capacity.
        """
        height, width = image.shape[-2:]
        self._check(num_symbols, height, width)
        padded = F.pad(image, (0, _padded(width) - width, 0, _padded(height) - height), "replicate")
        latent = self.encoder(padded, snr_db).float()
        return normalize_power(latent_to_symbols(latent, num_symbols))

    def decode(
        self,
        symbols: torch.Tensor,
        noise_var: torch.Tensor,
        snr_db: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        """Images from received, zero-forcing equalised symbols.

        :param symbols: [B, K], complex64.
        :param noise_var: [B, K], float32, post-equalisation noise variance of each symbol.
        :param snr_db: [B], float32, channel SNR in dB.
        :param height: H, pixels.
        :param width: W, pixels.
        :return: [B, 3, H, W], float32 in [0, 1].
        :raises ValueError: K is above the capacity.
        """
        self._check(symbols.shape[1], height, width)
        h, w = _padded(height) // DOWNSAMPLING, _padded(width) // DOWNSAMPLING
        features = received_features(symbols, noise_var, self.config.latent_channels, h, w)
        return self.decoder(features, snr_db).float()[:, :, :height, :width]

    def _check(self, num_symbols: int, height: int, width: int) -> None:
        capacity = self.capacity(height, width)
        if not 0 < num_symbols <= capacity:
            raise ValueError(
                f"deepjscc: {num_symbols} symbols requested, but a {height}x{width} image holds "
                f"1 to {capacity} (rho up to {capacity / (3 * height * width):.4g})"
            )

    def export(self, path: Path, info: dict[str, Any] | None = None) -> None:
        """Write the fp16 weights file (see the module docstring)."""
        export_weights(path, self.config, self.state_dict(), info)

    @classmethod
    def load(cls, path: Path, device: str | torch.device = "cpu") -> DeepJSCC:
        """A model in eval mode, float32, from a weights file written by :meth:`export`."""
        return load_model(path, lambda config: cls(DeepJSCCConfig(**config)), device)


def _padded(size: int) -> int:
    """``size`` rounded up to a multiple of :data:`DOWNSAMPLING`."""
    return -(-size // DOWNSAMPLING) * DOWNSAMPLING


def shipped_weights() -> Path:
    """Path of the shipped weights file."""
    return WEIGHTS_DIR / "deepjscc.pt"
