"""Fitting images and label maps to the simulator's size: centre crop to the aspect ratio, then resize."""

from __future__ import annotations

__all__ = ["crop_box", "fit_image", "fit_labels", "read_image", "to_rgb"]

from pathlib import Path

import numpy as np
from PIL import Image


def crop_box(height: int, width: int, out_height: int, out_width: int) -> tuple[int, int, int, int]:
    """The largest centred box of a ``height x width`` picture with the aspect ratio ``out_width/out_height``.

    :return: ``(left, top, right, bottom)`` in pixels, PIL convention (right/bottom exclusive).
    """
    if width * out_height > height * out_width:  # too wide: trim the sides
        crop_w = max(1, round(height * out_width / out_height))
        left = (width - crop_w) // 2
        return left, 0, left + crop_w, height
    crop_h = max(1, round(width * out_height / out_width))
    top = (height - crop_h) // 2
    return 0, top, width, top + crop_h


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Any grey, grey+alpha, RGB or RGBA array (uint8, bool or float in 0..1) as [H, W, 3] uint8 RGB."""
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(np.asarray(image, dtype=np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[-1]
    if channels in (2, 4):  # drop alpha
        image = image[..., : channels - 1]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return np.ascontiguousarray(image)


def fit_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop ``image`` to the aspect ratio ``width/height`` and resize it (Lanczos).

    :param image: [h, w] or [h, w, C] image (see :func:`to_rgb`).
    :return: [height, width, 3] uint8 RGB.
    """
    rgb = to_rgb(image)
    pil = Image.fromarray(rgb).crop(crop_box(rgb.shape[0], rgb.shape[1], height, width))
    if pil.size != (width, height):
        pil = pil.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(pil, dtype=np.uint8)


def fit_labels(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop a label map like :func:`fit_image` and resize it with nearest neighbour.

    :param labels: [h, w] uint8 label ids.
    :return: [height, width] uint8, every value taken from ``labels`` (no interpolation).
    """
    pil = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    pil = pil.crop(crop_box(labels.shape[0], labels.shape[1], height, width))
    if pil.size != (width, height):
        pil = pil.resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(pil, dtype=np.uint8)


def read_image(path: Path) -> np.ndarray:
    """Read an image file as [H, W, 3] uint8 RGB (palette, grey and alpha images are converted)."""
    with Image.open(path) as pil:
        return np.asarray(pil.convert("RGB"), dtype=np.uint8)
