"""Peak signal-to-noise ratio, per image."""

from __future__ import annotations

__all__ = ["PSNR_CAP_DB", "psnr"]

import torch

PSNR_CAP_DB: float = 100.0
"""Value reported for identical images when a finite PSNR is asked for, in dB.

Identical images have an infinite PSNR; a sweep averages PSNR over images, and one infinite value
would swamp the mean. 100 dB is far above any lossy reconstruction (one 8-bit level of error in every
pixel is 48.1 dB), so a capped value still reads as "error-free"."""


def psnr(ref: torch.Tensor, rec: torch.Tensor, cap_db: float | None = PSNR_CAP_DB) -> torch.Tensor:
    r"""Per-image PSNR with peak value 1.0.

    :math:`\mathrm{PSNR} = 10 \log_{10}(1 / \mathrm{MSE})`, with the MSE taken over all pixels and
    all three channels of each image.

    :param ref: Reference images, float32 [B, 3, H, W] in [0, 1].
    :param rec: Reconstructed images, same shape, device and range.
    :param cap_db: Upper limit in dB. Identical images (MSE = 0) give ``+inf``, which is reported as
        ``cap_db``; ``None`` keeps the ``+inf``.
    :return: PSNR in dB, float32 [B], on the inputs' device.

    Example:
        >>> x = torch.full((1, 3, 8, 8), 0.5)
        >>> psnr(x, x + 0.1)  # MSE 0.01 -> 20 dB
        tensor([20.0000])
    """
    if ref.shape != rec.shape or ref.dim() != 4:
        raise ValueError(
            f"psnr: expected two [B, C, H, W] tensors of one shape, got {tuple(ref.shape)} and {tuple(rec.shape)}"
        )
    mse = (ref.double() - rec.double()).square().flatten(1).mean(1)
    value = -10.0 * torch.log10(mse)
    if cap_db is not None:
        value = value.clamp(max=cap_db)
    return value.float()
