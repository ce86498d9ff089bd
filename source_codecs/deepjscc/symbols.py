"""Latent <-> channel symbols: channel-major order, truncation to K, power normalisation, and the
decoder's view of what arrived."""

from __future__ import annotations

__all__ = ["latent_to_symbols", "normalize_power", "received_features"]

import torch


def latent_to_symbols(latent: torch.Tensor, num_symbols: int) -> torch.Tensor:
    r"""The first ``num_symbols`` complex symbols of a real latent, in channel-major order.

    Real channels ``2c`` and ``2c + 1`` form complex channel ``c``; complex channel 0 (all its
    positions, row by row) comes first, so truncating to the first K drops whole trailing channels,
    the ones trained to matter least.

    :param latent: [B, 2 * C, h, w], float32.
    :param num_symbols: K <= C * h * w.
    :return: [B, K], complex64, not normalised.
    """
    b, c2, h, w = latent.shape
    pairs = latent.reshape(b, c2 // 2, 2, h * w)
    symbols = torch.complex(pairs[:, :, 0], pairs[:, :, 1]).reshape(b, -1)
    return symbols[:, :num_symbols]


def normalize_power(symbols: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Scale each row to unit average energy.

    :param symbols: [B, K], complex64.
    :return: [B, K], complex64, ``mean(|x|^2) = 1`` per row.
    """
    energy = symbols.abs().square().mean(dim=1, keepdim=True)
    return symbols / (energy + eps).sqrt()


def received_features(
    symbols: torch.Tensor, noise_var: torch.Tensor, latent_channels: int, height: int, width: int
) -> torch.Tensor:
    r"""The decoder's input built from the received symbols and their noise variances.

    With unit-energy transmit symbols and ``y = x + e`` (zero-forced, ``e`` of variance
    ``noise_var``), ``g * y`` with ``g = 1 / (1 + noise_var)`` is the linear MMSE estimate of ``x``.
    Symbols that were not sent (positions K and beyond) get ``y = 0`` and ``g = 0``; so do symbols
    with a non-finite value or variance (a channel coefficient of exactly 0).

    :param symbols: [B, K], complex64, equalised received symbols.
    :param noise_var: [B, K], float32, post-equalisation noise variance of each symbol.
    :param latent_channels: C, complex latent channels (K <= C * h * w).
    :param height: h, latent rows.
    :param width: w, latent columns.
    :return: [B, 3 * C, h, w], float32: real parts, imaginary parts interleaved per channel
        (``2c``, ``2c + 1``), then the gains ``g`` (``2C + c``).
    """
    b, k = symbols.shape
    capacity = latent_channels * height * width
    ok = torch.isfinite(noise_var) & torch.isfinite(symbols.real) & torch.isfinite(symbols.imag)
    gain = torch.where(ok, 1 / (1 + noise_var.clamp_min(0)), torch.zeros_like(noise_var))
    estimate = torch.where(ok, symbols, torch.zeros_like(symbols)) * gain
    pad = capacity - k
    estimate = torch.nn.functional.pad(torch.view_as_real(estimate), (0, 0, 0, pad))
    gain = torch.nn.functional.pad(gain, (0, pad))
    estimate = estimate.reshape(b, latent_channels, height * width, 2).transpose(2, 3)
    estimate = estimate.reshape(b, 2 * latent_channels, height, width)
    return torch.cat([estimate, gain.reshape(b, latent_channels, height, width)], dim=1)
