"""Generalized divisive normalisation (Balle et al., ICLR 2016), the nonlinearity of the transforms.

``GDN``: y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2); the inverse (``inverse=True``, IGDN)
multiplies instead. beta and gamma are kept non-negative by the reparametrisation of Balle's
paper (as in CompressAI's ``layers/gdn.py``): a parameter p stores sqrt(v + pedestal) and
v = max(p, bound)^2 - pedestal, with a lower bound whose gradient still pushes p back up.
"""

from __future__ import annotations

__all__ = ["GDN", "LowerBound", "NonNegative"]

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class _LowerBoundFn(torch.autograd.Function):
    """max(x, bound) whose gradient passes where x >= bound or where it points upwards."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        x, bound = ctx.saved_tensors
        passes = (x >= bound) | (grad < 0)
        return passes.to(grad.dtype) * grad, None


class LowerBound(nn.Module):
    """max(x, bound) with a gradient that can lift x back above the bound.

    :param bound: the lower bound (float).
    :input x: any shape, float.
    :output: same shape as ``x``.
    """

    def __init__(self, bound: float) -> None:
        super().__init__()
        self.register_buffer("bound", torch.tensor(float(bound)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _LowerBoundFn.apply(x, self.bound.to(x.dtype))


class NonNegative(nn.Module):
    """The map from a stored parameter to a value >= ``minimum``.

    :param minimum: the smallest value it returns.
    :param offset: reparametrisation offset; the pedestal is offset^2.
    """

    def __init__(self, minimum: float = 0.0, offset: float = 2**-18) -> None:
        super().__init__()
        self.pedestal = offset**2
        self.lower = LowerBound((minimum + self.pedestal) ** 0.5)

    def init(self, value: torch.Tensor) -> torch.Tensor:
        """The stored parameter whose :meth:`forward` is ``value``."""
        return torch.sqrt(torch.clamp_min(value + self.pedestal, self.pedestal))

    def forward(self, param: torch.Tensor) -> torch.Tensor:
        return self.lower(param) ** 2 - self.pedestal


class GDN(nn.Module):
    """GDN (or IGDN with ``inverse=True``) over the channels of a feature map.

    :param channels: C.
    :param inverse: IGDN, the synthesis-side inverse.
    :param beta_min: lower bound of beta (keeps the denominator away from 0).
    :param gamma_init: initial diagonal of gamma.
    :input x: [B, C, H, W], float.
    :output: [B, C, H, W], float.

    >>> GDN(8)(torch.randn(2, 8, 4, 4)).shape
    torch.Size([2, 8, 4, 4])
    """

    def __init__(
        self, channels: int, inverse: bool = False, beta_min: float = 1e-6, gamma_init: float = 0.1
    ) -> None:
        super().__init__()
        self.inverse = inverse
        self.beta_reparam = NonNegative(minimum=beta_min)
        self.gamma_reparam = NonNegative()
        self.beta = nn.Parameter(self.beta_reparam.init(torch.ones(channels)))
        self.gamma = nn.Parameter(self.gamma_reparam.init(gamma_init * torch.eye(channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        beta = self.beta_reparam(self.beta)
        gamma = self.gamma_reparam(self.gamma).view(channels, channels, 1, 1)
        norm = F.conv2d(x**2, gamma, beta)
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)
