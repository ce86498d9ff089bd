"""The semantic GAN's pixel convention: uint8 images at the codec's edge, floats in [-1, 1] inside
its networks (and the ST-LPIPS loss's)."""

from __future__ import annotations

__all__ = ["from_signed", "to_signed"]

import numpy as np
import torch


def to_signed(image: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, 3] -> float32 [3, H, W] in [-1, 1] (``x / 127.5 - 1``), on a copy (the input
    may be read-only or a strided view)."""
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 127.5 - 1


def from_signed(batch: torch.Tensor) -> torch.Tensor:
    """float [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3], rounded and clipped."""
    return ((batch + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1)
