"""Procedural noise for surface textures (asphalt, plaster, foliage, clouds)."""

from __future__ import annotations

__all__ = ["fractal_noise", "frac", "value_noise"]

import numpy as np
from PIL import Image


def value_noise(rng: np.random.Generator, height: int, width: int, cells: float) -> np.ndarray:
    """Smooth random field: uniform values on a coarse grid, bicubically interpolated.

    :param rng: Random generator (consumed).
    :param height: Output rows.
    :param width: Output columns.
    :param cells: Grid cells across the width (the feature size is ``width / cells`` pixels); the
        grid keeps square cells along the height.
    :return: [height, width] float32, roughly in [-1, 1].
    """
    gx = max(2, round(cells) + 1)
    gy = max(2, round(cells * height / width) + 1)
    grid = rng.uniform(-1.0, 1.0, size=(gy, gx)).astype(np.float32)
    return np.asarray(
        Image.fromarray(grid, mode="F").resize((width, height), Image.Resampling.BICUBIC)
    )


def fractal_noise(
    rng: np.random.Generator,
    height: int,
    width: int,
    cells: float = 4.0,
    octaves: int = 4,
    persistence: float = 0.5,
) -> np.ndarray:
    """Sum of :func:`value_noise` octaves, each twice as fine and ``persistence`` times as strong.

    :param rng: Random generator (consumed).
    :param height: Output rows.
    :param width: Output columns.
    :param cells: Grid cells across the width of the coarsest octave.
    :param octaves: Number of octaves (finer ones stop at 2-pixel features).
    :param persistence: Amplitude ratio between successive octaves.
    :return: [height, width] float32 normalised to unit peak amplitude, roughly in [-1, 1].
    """
    total = np.zeros((height, width), dtype=np.float32)
    term = np.empty_like(total)
    amplitude, norm = 1.0, 0.0
    for k in range(octaves):
        c = cells * 2**k
        if c > width / 2:
            break
        total += np.multiply(np.float32(amplitude), value_noise(rng, height, width, c), out=term)
        norm += amplitude
        amplitude *= persistence
    total /= np.float32(norm)
    return total


def frac(x: np.ndarray) -> np.ndarray:
    """Fractional part ``x - floor(x)`` in [0, 1) (for periodic patterns; much faster than ``np.mod``)."""
    return x - np.floor(x)
