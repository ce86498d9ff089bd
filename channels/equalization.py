"""Zero-forcing equalisation of flat fading with perfect CSI."""

from __future__ import annotations

import torch

__all__ = ["zf_equalize"]

_MIN_GAIN = (
    1e-12  # |h|^2 floor: a deep fade gives a huge, finite noise variance, never a division by 0
)


def zf_equalize(
    y: torch.Tensor, h: torch.Tensor, no: float | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``x_hat = y / h`` and its per-symbol effective noise variance ``no / |h|^2``.

    :param y: [batch, symbols], `torch.complex64`. Received symbols ``h * x + n``.
    :param h: [batch, symbols], `torch.complex64`. Channel coefficients (perfect CSI).
    :param no: `float` or tensor broadcastable to ``y``. Noise variance N0 per complex symbol.
    :return: ``x_hat`` [batch, symbols] `torch.complex64` and ``no_eff`` [batch, symbols]
        `torch.float32`, the noise variance of ``x_hat - x``.
    """
    gain = (h.real.square() + h.imag.square()).clamp_min(_MIN_GAIN)
    x_hat = y * h.conj() / gain
    no = torch.as_tensor(no, dtype=gain.dtype, device=gain.device)
    return x_hat, torch.broadcast_to(no, gain.shape) / gain
