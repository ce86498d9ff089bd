"""The codec's learned parts in one module: encoder, quantiser, SPADE generator, symbol statistics.

Weights files (``weights/semantic_gan_<rate>.pt``, one per row of :data:`.zoo.ZOO`) hold ``{"config": dict, "state_dict": fp16
tensors, "info": dict}`` and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

__all__ = ["DOWNSAMPLING", "SemanticGAN", "SemanticGANConfig"]

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from source_codecs.semantic_gan.encoder import Encoder
from source_codecs.semantic_gan.generator import SPADEGenerator
from source_codecs.semantic_gan.quantizer import Quantizer
from source_codecs.semantic_gan.semantic_map import NUM_LABEL_CHANNELS
from source_codecs.weights_io import export_weights, load_model

DOWNSAMPLING = 16
"""Spatial downsampling of the latent; image sizes are padded to multiples of it."""


@dataclass(frozen=True)
class SemanticGANConfig:
    """Architecture of one rate point.

    :param latent_channels: C, channels of the latent.
    :param levels: L, quantiser centres (in [-2, 2]).
    :param ngf: channel unit of the generator.
    :param encoder_width: channels of the encoder's first stage.
    :param map_factor: the semantic map is coded at 1 / map_factor resolution (1, 2 or 4) and the
        generator is trained on maps degraded the same way.
    """

    latent_channels: int = 2
    levels: int = 5
    ngf: int = 16
    encoder_width: int = 32
    map_factor: int = 4


class SemanticGAN(nn.Module):
    """Encoder + quantiser on the transmitter side, SPADE generator on the receiver side.

    ``symbol_counts`` [C, L] is a running histogram of the quantised symbols of each channel,
    accumulated in training; :meth:`pmf` turns it into the categorical model of the entropy coder.

    :param config: the architecture.

    >>> model = SemanticGAN(SemanticGANConfig(latent_channels=2)).eval()
    >>> image, segmap = torch.zeros(1, 3, 64, 128), torch.zeros(1, 20, 64, 128)
    >>> symbols = model.analyse(image, segmap)            # int64 [1, 2, 4, 8]
    >>> model.synthesise(model.quantizer.dequantize(symbols), segmap).shape
    torch.Size([1, 3, 64, 128])
    """

    def __init__(self, config: SemanticGANConfig) -> None:
        super().__init__()
        self.config = config
        c = config.latent_channels
        self.encoder = Encoder(c, NUM_LABEL_CHANNELS, config.encoder_width)
        self.quantizer = Quantizer(config.levels)
        self.generator = SPADEGenerator(c, NUM_LABEL_CHANNELS, config.ngf)
        self.register_buffer("symbol_counts", torch.ones(c, config.levels))

    def analyse(self, image: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """Quantised latent symbols of ``image`` [B, 3, H, W] in [-1, 1] given ``segmap``
        [B, 20, H, W]: int64 [B, C, H / 16, W / 16] in 0..L-1."""
        return self.quantizer(self.encoder(image, segmap))[1]

    def synthesise(self, latent: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """Image [B, 3, H, W] in [-1, 1] from quantised values [B, C, H / 16, W / 16] and map."""
        return self.generator(latent, segmap)

    @torch.no_grad()
    def update_counts(self, symbols: torch.Tensor, decay: float = 0.999) -> None:
        """Fold a batch of symbols (int64 [B, C, h, w]) into the running histogram."""
        per_channel = symbols.transpose(0, 1).reshape(symbols.shape[1], -1)
        hist = torch.stack(
            [torch.bincount(s, minlength=self.config.levels) for s in per_channel]
        ).to(self.symbol_counts)
        hist = hist / hist.sum(1, keepdim=True)
        total = self.symbol_counts / self.symbol_counts.sum(1, keepdim=True)
        self.symbol_counts.copy_(decay * total + (1 - decay) * hist)

    def pmf(self, floor: float = 1e-3) -> torch.Tensor:
        """Categorical model of each channel's symbols: float64 [C, L], rows sum to 1, each entry at
        least about ``floor`` so that every symbol stays codable."""
        p = self.symbol_counts.double().clamp_min(0)
        p = p / p.sum(1, keepdim=True) + floor
        return p / p.sum(1, keepdim=True)

    def export(self, path: Path, info: dict[str, Any] | None = None) -> None:
        """Write the fp16 weights file (see the module docstring)."""
        export_weights(path, self.config, self.state_dict(), info, float32=("symbol_counts",))

    @classmethod
    def load(cls, path: Path, device: str | torch.device = "cpu") -> SemanticGAN:
        """A model in eval mode, float32, from a weights file written by :meth:`export`."""
        return load_model(path, lambda config: cls(SemanticGANConfig(**config)), device)
