"""Semantic maps as the generator sees them: class channels, one-hot tensors, reduced resolution."""

from __future__ import annotations

__all__ = ["NUM_LABEL_CHANNELS", "downscale_map", "label_channels", "one_hot", "upscale_map"]

import numpy as np
import torch
import torch.nn.functional as F

from source_codecs.labels import NUM_CLASSES

NUM_LABEL_CHANNELS = NUM_CLASSES + 1
"""One-hot channels of the generator: the 19 classes and one for ignore (255) or any other value."""


def label_channels(labels: torch.Tensor) -> torch.Tensor:
    """Channel index of each pixel: trainIds 0..18 unchanged, every other value -> 19.

    :param labels: [..., H, W], integer tensor of trainIds (255 = ignore).
    :return: [..., H, W], int64 in 0..19.
    """
    labels = labels.long()
    return torch.where(labels < NUM_CLASSES, labels, torch.full_like(labels, NUM_CLASSES))


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """The one-hot semantic map that conditions SPADE.

    :param labels: [B, H, W], integer tensor of trainIds (255 = ignore).
    :return: [B, 20, H, W], float32.
    """
    return F.one_hot(label_channels(labels), NUM_LABEL_CHANNELS).permute(0, 3, 1, 2).float()


def downscale_map(labels: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour subsampling by an integer ``factor`` (the centre pixel of each block).

    :param labels: uint8 [H, W].
    :param factor: 1, 2, 4, ...
    :return: uint8 [ceil(H / factor), ceil(W / factor)].
    """
    if factor == 1:
        return labels
    rows = np.minimum(np.arange(0, labels.shape[0], factor) + factor // 2, labels.shape[0] - 1)
    cols = np.minimum(np.arange(0, labels.shape[1], factor) + factor // 2, labels.shape[1] - 1)
    return np.ascontiguousarray(labels[np.ix_(rows, cols)])


def upscale_map(labels: np.ndarray, factor: int, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`downscale_map`: each coded pixel repeated over its block, cropped to size.

    :param labels: uint8 [h, w] with h = ceil(height / factor), w = ceil(width / factor).
    :return: uint8 [height, width].
    """
    if factor == 1:
        return labels
    return np.repeat(np.repeat(labels, factor, 0), factor, 1)[:height, :width]
