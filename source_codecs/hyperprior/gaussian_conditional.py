"""The conditional entropy model of the latent y: a zero-mean Gaussian per element, convolved with
a unit uniform, whose scale the hyper-synthesis predicts (Balle et al., ICLR 2018).

Training uses additive uniform noise and the likelihood of the noisy value. Coding rounds y to
integers, clamps them to [-``SUPPORT``, ``SUPPORT``] (a range no trained latent leaves; clamping
keeps encoding total) and codes them with constriction's ``QuantizedGaussian`` on a range coder.
The scales are first snapped to a fixed log-spaced table, so that the encoder and the decoder use
bit-identical model parameters even if their floating-point scales differ in the last digits.
"""

from __future__ import annotations

__all__ = ["SCALE_TABLE", "SUPPORT", "GaussianConditional"]

import math

import constriction
import numpy as np
import torch
from torch import nn

from source_codecs.hyperprior.gdn import LowerBound

SUPPORT = 255
"""Integer symbols of y are coded in [-SUPPORT, SUPPORT]."""

SCALE_MIN = 0.11
SCALE_TABLE = np.exp(np.linspace(math.log(SCALE_MIN), math.log(256.0), 64))
"""float64 [64]: the scales the coder uses (CompressAI's table: 0.11 to 256, log-spaced)."""

_LIKELIHOOD_MIN = 1e-9


class GaussianConditional(nn.Module):
    """Likelihoods (training) and integer coding (inference) of y given its scales.

    :input y: [B, M, h, w], float, the analysis output.
    :input scales: [B, M, h, w], float, > 0, from the hyper-synthesis.
    :output y_tilde: [B, M, h, w], y plus U(-0.5, 0.5) noise in training, rounded in eval mode.
    :output likelihoods: [B, M, h, w], float in (0, 1].

    >>> gc = GaussianConditional().eval()
    >>> y_hat, p = gc(torch.tensor([[[[0.2, 3.7]]]]), torch.ones(1, 1, 1, 2))
    >>> y_hat.tolist()
    [[[[0.0, 4.0]]]]
    """

    def __init__(self) -> None:
        super().__init__()
        self.scale_bound = LowerBound(SCALE_MIN)
        self.likelihood_bound = LowerBound(_LIKELIHOOD_MIN)

    def forward(self, y: torch.Tensor, scales: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training:
            y_tilde = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        else:
            y_tilde = torch.round(y)
        return y_tilde, self.likelihood(y_tilde, scales)

    def likelihood(self, values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
        """P(values) under N(0, scales^2) * U(-0.5, 0.5): [B, M, h, w], float in (0, 1]."""
        scales = self.scale_bound(scales)
        v = values.abs()  # symmetric: evaluate in the lower tail for precision
        upper = _normal_cdf((0.5 - v) / scales)
        lower = _normal_cdf((-0.5 - v) / scales)
        return self.likelihood_bound(upper - lower)

    @staticmethod
    def scale_indexes(scales: torch.Tensor) -> np.ndarray:
        """Index into :data:`SCALE_TABLE` of each scale (the smallest entry >= it): int64, same
        shape as ``scales``."""
        s = scales.detach().double().cpu().numpy()
        return np.searchsorted(SCALE_TABLE, s).clip(0, len(SCALE_TABLE) - 1)

    @staticmethod
    def symbols(y: torch.Tensor) -> np.ndarray:
        """The integers that are coded: round(y) clamped to the support, int32, y's shape."""
        q = torch.round(y.detach()).clamp(-SUPPORT, SUPPORT)
        return q.to(torch.int32).cpu().numpy()

    @staticmethod
    def encode(symbols: np.ndarray, indexes: np.ndarray) -> np.ndarray:
        """Range-code ``symbols`` (int32, any shape) under the table scales ``indexes`` (same
        shape): the compressed uint32 words."""
        coder = constriction.stream.queue.RangeEncoder()
        if symbols.size:
            std = SCALE_TABLE[indexes.reshape(-1)]
            coder.encode(symbols.reshape(-1).astype(np.int32), _model(), np.zeros_like(std), std)
        return coder.get_compressed()

    @staticmethod
    def decode(words: np.ndarray, indexes: np.ndarray) -> np.ndarray:
        """Decode as many symbols as ``indexes`` has elements from uint32 ``words``: int32,
        ``indexes``' shape. Constriction may raise on words no encoder wrote."""
        if not indexes.size:
            return np.zeros(indexes.shape, np.int32)
        coder = constriction.stream.queue.RangeDecoder(words.astype(np.uint32))
        std = SCALE_TABLE[indexes.reshape(-1)]
        return coder.decode(_model(), np.zeros_like(std), std).reshape(indexes.shape)


def _model() -> constriction.stream.model.QuantizedGaussian:
    """The model family over the support; mean and std are given per symbol."""
    return constriction.stream.model.QuantizedGaussian(-SUPPORT, SUPPORT)


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    """Standard normal CDF."""
    return 0.5 * torch.erfc(-x * (2**-0.5))
