"""The factorized prior of the hyper-latent z (Balle et al., ICLR 2018, appendix 6.1).

Each channel of z has its own non-parametric density, defined through its cumulative: a small
monotone network c(x) = sigmoid(f_K(...f_1(x))), each f_k an affine map with a softplus'd
(non-negative) matrix followed, except the last, by x + tanh(a) * tanh(x). The likelihood of a
value is c(x + 0.5) - c(x - 0.5) (the density convolved with a unit uniform). Learned quantiles
(``tail_mass`` / 2, median, 1 - ``tail_mass`` / 2) are fitted by an auxiliary loss; at inference
they give each channel's median (z is coded as round(z - median)) and a finite support, over which
:meth:`EntropyBottleneck.pmfs` tabulates the integer pmf for the entropy coder. Symbols outside
the support are clamped to it, so coding never fails.
"""

from __future__ import annotations

__all__ = ["EntropyBottleneck"]

import math

import constriction
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from source_codecs.hyperprior.gdn import LowerBound

MAX_SUPPORT = 513
"""Upper limit on the support of one channel, in integers (guards against a degenerate prior)."""


class EntropyBottleneck(nn.Module):
    """Factorized density model of z [B, C, h, w].

    :param channels: C.
    :param filters: widths of the hidden layers of the cumulative network.
    :param init_scale: initial spread of the density (and of the quantiles, +-init_scale).
    :param tail_mass: probability left outside [lower quantile, upper quantile].
    :input z: [B, C, h, w], float.
    :output z_tilde: [B, C, h, w]: z + U(-0.5, 0.5) in training; round(z - median) + median in
        eval mode.
    :output likelihoods: [B, C, h, w], float in (0, 1].

    >>> eb = EntropyBottleneck(4)
    >>> z_tilde, p = eb(torch.randn(2, 4, 3, 3))
    >>> p.shape
    torch.Size([2, 4, 3, 3])
    """

    def __init__(
        self,
        channels: int,
        filters: tuple[int, ...] = (3, 3, 3),
        init_scale: float = 10.0,
        tail_mass: float = 1e-9,
    ) -> None:
        super().__init__()
        self.channels = channels
        widths = (1, *filters, 1)
        scale = init_scale ** (1 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.matrices.append(
                nn.Parameter(torch.full((channels, widths[i + 1], widths[i]), init))
            )
            self.biases.append(nn.Parameter(torch.rand(channels, widths[i + 1], 1) - 0.5))
            if i < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))
        quantiles = torch.tensor([-init_scale, 0.0, init_scale]).repeat(channels, 1, 1)
        self.quantiles = nn.Parameter(quantiles)  # [C, 1, 3]
        target = math.log(2 / tail_mass - 1)
        self.register_buffer("target", torch.tensor([-target, 0.0, target]))
        self.likelihood_bound = LowerBound(1e-9)

    def logits_cumulative(self, x: torch.Tensor, stop_gradient: bool = False) -> torch.Tensor:
        """Logit of the cumulative at ``x`` [C, 1, N] (per channel): [C, 1, N], ``x``'s dtype.

        :param stop_gradient: detach the network's parameters (the auxiliary loss trains only
            the quantiles; the coder's tables need no gradient).
        """
        logits = x
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            matrix, bias = (matrix.detach(), bias.detach()) if stop_gradient else (matrix, bias)
            logits = torch.matmul(F.softplus(matrix.to(x.dtype)), logits) + bias.to(x.dtype)
            if i < len(self.factors):
                factor = self.factors[i].detach() if stop_gradient else self.factors[i]
                logits = logits + torch.tanh(factor.to(x.dtype)) * torch.tanh(logits)
        return logits

    def aux_loss(self) -> torch.Tensor:
        """Distance of the cumulative's logits at the quantiles from their targets (scalar)."""
        logits = self.logits_cumulative(self.quantiles, stop_gradient=True)
        return (logits - self.target).abs().sum()

    @torch.no_grad()
    def update_quantiles(self, iterations: int = 60) -> None:
        """Set the quantiles to where the cumulative's logits meet their targets, by bisection.

        The cumulative is monotone in x (non-negative matrices, |tanh(a)| < 1), so this solves what
        the auxiliary loss fits by gradient descent, exactly and at once: [C, 1, 3] in float64,
        searched in [-``MAX_SUPPORT``, ``MAX_SUPPORT``].
        """
        shape = self.quantiles.shape
        low = torch.full(shape, -float(MAX_SUPPORT), dtype=torch.float64)
        high = torch.full(shape, float(MAX_SUPPORT), dtype=torch.float64)
        for _ in range(iterations):
            mid = (low + high) / 2
            above = self.logits_cumulative(mid.view(-1, 1, 3), True).view(shape) > self.target
            high, low = torch.where(above, mid, high), torch.where(above, low, mid)
        self.quantiles.copy_((low + high) / 2)

    def medians(self) -> torch.Tensor:
        """Per-channel medians: [C]."""
        return self.quantiles.detach()[:, 0, 1]

    def likelihood(self, z: torch.Tensor) -> torch.Tensor:
        """P(z) under the density convolved with U(-0.5, 0.5): [B, C, h, w]."""
        b, c, h, w = z.shape
        values = z.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower = self.logits_cumulative(values - 0.5)
        upper = self.logits_cumulative(values + 0.5)
        sign = -torch.sign(lower + upper).detach()  # evaluate in the far tail for precision
        p = (torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower)).abs()
        p = self.likelihood_bound(p)
        return p.reshape(c, b, h, w).permute(1, 0, 2, 3)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training:
            z_tilde = z + torch.empty_like(z).uniform_(-0.5, 0.5)
        else:
            medians = self.medians().view(1, -1, 1, 1)
            z_tilde = torch.round(z - medians) + medians
        return z_tilde, self.likelihood(z_tilde)

    @torch.no_grad()
    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel integer support of round(z - median): (lowest, highest), int64 [C] each."""
        q = self.quantiles.detach().double()[:, 0]
        below = torch.ceil(q[:, 1] - q[:, 0]).clamp(0, MAX_SUPPORT // 2)
        above = torch.ceil(q[:, 2] - q[:, 1]).clamp(0, MAX_SUPPORT // 2)
        return (-below).long().numpy(), above.long().numpy()

    @torch.no_grad()
    def pmfs(self) -> np.ndarray:
        """Integer pmfs over the union support [lowest.min(), highest.max()] of all channels:
        float64 [C, L]; entries outside a channel's own support are 0, the tail mass goes to its
        end points; rows sum to 1."""
        lowest, highest = self.support()
        offsets = np.arange(lowest.min(), highest.max() + 1)
        grid = (
            torch.from_numpy(offsets).double()[None, None] + self.medians().double()[:, None, None]
        )
        lower = self.logits_cumulative(grid - 0.5, True)[:, 0]
        upper = self.logits_cumulative(grid + 0.5, True)[:, 0]
        pmf = (torch.sigmoid(upper) - torch.sigmoid(lower)).clamp_min(0).numpy()
        inside = (offsets[None] >= lowest[:, None]) & (offsets[None] <= highest[:, None])
        pmf = np.where(inside, pmf, 0.0)
        rows = np.arange(self.channels)
        pmf[rows, lowest - offsets[0]] += torch.sigmoid(lower[rows, lowest - offsets[0]]).numpy()
        pmf[rows, highest - offsets[0]] += torch.sigmoid(-upper[rows, highest - offsets[0]]).numpy()
        pmf = np.where(inside, pmf + 1e-9, 0.0)
        return pmf / pmf.sum(1, keepdims=True)

    def symbols(self, z: torch.Tensor) -> np.ndarray:
        """Index of each z in its channel's pmf row: int32 [B, C, h, w], clamped to the support."""
        lowest, highest = self.support()
        q = torch.round(z.detach() - self.medians().view(1, -1, 1, 1)).long().numpy()
        q = q.clip(lowest[None, :, None, None], highest[None, :, None, None])
        return (q - lowest.min()).astype(np.int32)

    def dequantize(self, symbols: np.ndarray) -> torch.Tensor:
        """z_hat [B, C, h, w] float32 from the indexes of :meth:`symbols`."""
        lowest, _ = self.support()
        offsets = torch.from_numpy(symbols.astype(np.int64) + int(lowest.min())).float()
        return offsets + self.medians().float().view(1, -1, 1, 1)

    def encode(self, symbols: np.ndarray) -> np.ndarray:
        """Range-code the indexes (int32 [B, C, h, w]): the compressed uint32 words."""
        coder = constriction.stream.queue.RangeEncoder()
        probs = self._probs(symbols.shape)
        if symbols.size:
            coder.encode(symbols.reshape(-1), _categorical(), probs)
        return coder.get_compressed()

    def decode(self, words: np.ndarray, shape: tuple[int, int, int, int]) -> np.ndarray:
        """Indexes int32 ``shape`` [B, C, h, w] from uint32 ``words``; constriction may raise on
        words no encoder wrote."""
        probs = self._probs(shape)
        if not len(probs):
            return np.zeros(shape, np.int32)
        coder = constriction.stream.queue.RangeDecoder(words.astype(np.uint32))
        return coder.decode(_categorical(), probs).reshape(shape)

    def _probs(self, shape: tuple[int, ...]) -> np.ndarray:
        """Row i of the result is the pmf of element i of a [B, C, h, w] array: float64 [n, L]."""
        b, c, h, w = shape
        pmf = self.pmfs()
        index = np.broadcast_to(np.arange(c)[None, :, None, None], (b, c, h, w)).reshape(-1)
        return pmf[index]


def _categorical() -> constriction.stream.model.Categorical:
    """The categorical family; the probabilities are given per symbol."""
    return constriction.stream.model.Categorical(perfect=False)
