"""Training augmentations that make the segmenter judge semantics, not compression artefacts.

A reconstructed image may be blocky (JPEG), blurred (low-rate learned codecs), noisy or colour-shifted
(GAN decoders); the segmenter must still recognise a car as a car. Each image of a batch draws its
own degradations; geometry (crop, flip) is applied to the labels too.
"""

from __future__ import annotations

__all__ = ["AugmentConfig", "augment_batch"]

import io
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the augmentations.

    :param crop: (height, width) of the random crop, in pixels; `None` keeps the full image.
    :param p_jpeg: Probability of a JPEG round trip (Pillow) at a quality drawn from ``jpeg_quality``.
    :param jpeg_quality: Inclusive range of the JPEG quality (1-95).
    :param p_downscale: Probability of a bilinear down/up-sampling by a factor in ``downscale``.
    :param downscale: Range of the down-sampling factor.
    :param p_blur: Probability of a Gaussian blur with a standard deviation (pixels) in ``blur_sigma``.
    :param blur_sigma: Range of the blur standard deviation, in pixels.
    :param p_noise: Probability of additive Gaussian noise with a standard deviation in ``noise_sigma``.
    :param noise_sigma: Range of the noise standard deviation, in units of the [0, 1] intensity.
    :param color_jitter: Maximum relative change of brightness, contrast and saturation.
    """

    crop: tuple[int, int] | None = None
    p_jpeg: float = 0.5
    jpeg_quality: tuple[int, int] = (5, 90)
    p_downscale: float = 0.25
    downscale: tuple[float, float] = (1.5, 4.0)
    p_blur: float = 0.25
    blur_sigma: tuple[float, float] = (0.5, 2.0)
    p_noise: float = 0.25
    noise_sigma: tuple[float, float] = (0.01, 0.06)
    color_jitter: float = 0.25


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip of one uint8 [H, W, 3] image."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.array(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of [3, H, W] with reflect padding."""
    radius = max(1, int(round(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = (kernel / kernel.sum()).repeat(3, 1, 1, 1)
    y = F.pad(x[None], (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, kernel.view(3, 1, 1, -1), groups=3)
    return F.conv2d(y, kernel.view(3, 1, -1, 1), groups=3)[0]


def _downscale(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear down- then up-sampling of [3, H, W] by ``factor``."""
    h, w = x.shape[-2:]
    small = F.interpolate(
        x[None], size=(max(1, round(h / factor)), max(1, round(w / factor))), mode="bilinear",
        antialias=True, align_corners=False,
    )  # fmt: skip
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)[0]


def _color_jitter(x: torch.Tensor, strength: float, rng: np.random.Generator) -> torch.Tensor:
    """Random brightness, contrast and saturation of [3, H, W] in [0, 1]."""
    b, c, s = 1 + rng.uniform(-strength, strength, size=3)
    x = x * b
    x = (x - x.mean()) * c + x.mean()
    gray = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
    return (x - gray) * s + gray


def _crop_flip(
    image: np.ndarray,
    labels: np.ndarray,
    crop: tuple[int, int] | None,
    rng: np.random.Generator,
    centre: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random crop and horizontal flip, applied alike to the image and its labels.

    With a ``centre`` (row, column) the crop contains that pixel, at a uniformly random place in
    the middle half of the crop (clamped to the image).
    """
    if crop is not None:
        h, w = labels.shape
        ch, cw = min(crop[0], h), min(crop[1], w)
        if centre is None:
            top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        else:
            top = centre[0] - int(rng.integers(ch // 4, ch - ch // 4))
            left = centre[1] - int(rng.integers(cw // 4, cw - cw // 4))
            top, left = min(max(top, 0), h - ch), min(max(left, 0), w - cw)
        image, labels = (
            image[top : top + ch, left : left + cw],
            labels[top : top + ch, left : left + cw],
        )
    if rng.random() < 0.5:
        image, labels = image[:, ::-1], labels[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(labels)


def augment_batch(
    images: list[np.ndarray],
    labels: list[np.ndarray],
    config: AugmentConfig,
    rng: np.random.Generator,
    centres: list[tuple[int, int] | None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch of labelled images.

    :param images: ``B`` uint8 [H, W, 3] RGB images.
    :param labels: ``B`` uint8 [H, W] trainIds (255 = ignore).
    :param config: What to apply, and how often.
    :param rng: Source of all randomness (reproducible training).
    :param centres: Per image, a (row, column) pixel the crop must contain, or `None` for a
        uniformly random crop (see :class:`~simulator.metrics.segmentation.training.sampling.CropSampler`).
    :return: float32 [B, 3, h, w] images in [0, 1] and int64 [B, h, w] labels, (h, w) the crop size.
    """
    out_images, out_labels = [], []
    centres = [None] * len(images) if centres is None else centres
    for image, label, centre in zip(images, labels, centres, strict=True):
        image, label = _crop_flip(image, label, config.crop, rng, centre)
        if rng.random() < config.p_jpeg:
            image = _jpeg(
                image, int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
            )
        x = torch.from_numpy(image).permute(2, 0, 1).float() / 255.0
        if rng.random() < config.p_downscale:
            x = _downscale(x, float(rng.uniform(*config.downscale)))
        if rng.random() < config.p_blur:
            x = _gaussian_blur(x, float(rng.uniform(*config.blur_sigma)))
        if config.color_jitter > 0:
            x = _color_jitter(x, config.color_jitter, rng)
        if rng.random() < config.p_noise:
            noise = torch.from_numpy(rng.standard_normal(x.shape, dtype=np.float32))
            x = x + float(rng.uniform(*config.noise_sigma)) * noise
        out_images.append(x.clamp(0, 1))
        out_labels.append(torch.from_numpy(label.astype(np.int64)))
    return torch.stack(out_images), torch.stack(out_labels)
