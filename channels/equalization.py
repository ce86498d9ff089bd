"""Zero-forcing equalisation of flat fading with perfect or estimated CSI."""

from __future__ import annotations

import torch

from channels.base import Channel, split_channel_output

__all__ = ["transmit_equalized", "zf_equalize"]

_MIN_GAIN = (
    1e-12  # |h|^2 floor: a deep fade gives a huge, finite noise variance, never a division by 0
)


def zf_equalize(
    y: torch.Tensor,
    h: torch.Tensor,
    no: float | torch.Tensor,
    err_var: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``x_hat = y / h`` and its per-symbol effective noise variance ``(no + err_var) / |h|^2``.

    :param y: [batch, symbols], `torch.complex64`. Received symbols ``h * x + n``.
    :param h: [batch, symbols], `torch.complex64`. Channel coefficients (perfect CSI).
    :param no: `float` or tensor broadcastable to ``y``. Noise variance N0 per complex symbol.
    :param err_var: [batch, symbols] `torch.float32` or `None`. Error variance of ``h`` when it is an
        estimate (with unit-energy symbols, the error adds ``err_var`` to the noise); `None` = 0.
    :return: ``x_hat`` [batch, symbols] `torch.complex64` and ``no_eff`` [batch, symbols]
        `torch.float32`, the noise variance of ``x_hat - x``.
    """
    gain = (h.real.square() + h.imag.square()).clamp_min(_MIN_GAIN)
    x_hat = y * h.conj() / gain
    no = torch.as_tensor(no, dtype=gain.dtype, device=gain.device)
    if err_var is not None:
        no = no + err_var.to(gain.dtype)
    return x_hat, torch.broadcast_to(no, gain.shape) / gain


def transmit_equalized(
    channel: Channel, x: torch.Tensor, no: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Send ``x`` through ``channel`` and zero-force what arrives with the receiver's CSI.

    :param channel: a channel model (see :class:`channels.base.Channel`); perfect or estimated CSI.
    :param x: [batch, symbols], `torch.complex64`. Unit average energy.
    :param no: noise variance N0 per complex symbol.
    :return: ``x_hat`` [batch, symbols] `torch.complex64` and its per-symbol noise variance ``no_eff``
        [batch, symbols] `torch.float32` (see :func:`zf_equalize`).
    """
    y, h, err_var = split_channel_output(channel(x, no))
    return zf_equalize(y, h, no, err_var)
