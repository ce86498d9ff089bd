"""Multi-scale structural similarity (MS-SSIM), per image, for any image size down to 11 px."""

from __future__ import annotations

__all__ = ["MS_SSIM_WEIGHTS", "ms_ssim", "ms_ssim_scales"]

import torch
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""Exponents of the five scales, finest first (Wang, Simoncelli and Bovik, 2003)."""

KERNEL_SIZE = 11
"""Side of the Gaussian window (sigma 1.5 px), as in the original MS-SSIM."""


def ms_ssim_scales(height: int, width: int) -> int:
    """Number of scales MS-SSIM can use on an image of this size (1 to 5).

    Scale ``s`` (counted from 1) sees the image downsampled ``s - 1`` times by 2x2 averaging; the
    11-px window must fit in it: ``min(H, W) // 2**(s - 1) >= 11``. The five-scale standard thus needs
    a short side of at least 176 px. (torchmetrics also applies its own, slightly stricter bound for
    four scales, ``min(H, W) // 9 >= 11``; it is honoured so that its implementation accepts the call.)

    :param height: Image height in pixels.
    :param width: Image width in pixels.
    :return: The number of scales, at most ``len(MS_SSIM_WEIGHTS)``.
    :raises ValueError: if the short side is below 11 px (no SSIM window fits).
    """
    side = min(height, width)
    if side < KERNEL_SIZE:
        raise ValueError(
            f"ms_ssim: images of {height}x{width} px are smaller than the {KERNEL_SIZE}-px SSIM window"
        )
    scales = 1
    for s in range(2, len(MS_SSIM_WEIGHTS) + 1):
        fits = side // 2 ** (s - 1) >= KERNEL_SIZE and side // (s - 1) ** 2 >= KERNEL_SIZE
        if not fits:
            break
        scales = s
    return scales


def ms_ssim(ref: torch.Tensor, rec: torch.Tensor) -> torch.Tensor:
    """Per-image MS-SSIM in [0, 1] (1 = identical), data range 1.0.

    The standard five scales and weights of Wang et al. (Gaussian window 11 px, sigma 1.5,
    K1 = 0.01, K2 = 0.03), computed with torchmetrics' implementation. Images too small for five scales
    (short side below 176 px) use the first ``s`` scales that fit (:func:`ms_ssim_scales`), with their
    weights renormalised to sum to one, so that the value stays on the same 0..1 scale. Negative
    contrast-structure terms (heavily corrupted images) are clipped to zero before the weighted product
    (torchmetrics' ``normalize="relu"``), so the value is 0 rather than NaN.

    :param ref: Reference images, float32 [B, 3, H, W] in [0, 1].
    :param rec: Reconstructed images, same shape and device.
    :return: MS-SSIM, float32 [B], on the inputs' device.
    """
    if ref.shape != rec.shape or ref.dim() != 4:
        raise ValueError(
            f"ms_ssim: expected two [B, C, H, W] tensors of one shape, got {tuple(ref.shape)} and {tuple(rec.shape)}"
        )
    scales = ms_ssim_scales(ref.shape[-2], ref.shape[-1])
    weights = MS_SSIM_WEIGHTS[:scales]
    betas = tuple(w / sum(weights) for w in weights)
    value = multiscale_structural_similarity_index_measure(
        rec.float(),
        ref.float(),
        kernel_size=KERNEL_SIZE,
        sigma=1.5,
        data_range=1.0,
        betas=betas,
        normalize="relu",
        reduction="none",
    )
    return value.reshape(ref.shape[0])
