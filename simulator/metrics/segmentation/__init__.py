"""The segmenter behind the mIoU metric: a compact CNN trained on the project's synthetic street scenes.

mIoU compares the segmenter's prediction on a *reconstructed* image with the ground-truth labels of
the original, so it measures how much of the scene's meaning survived the link. The shipped network
(:mod:`.model`, weights in ``weights/segmenter.pt``, trained by :mod:`.training.train`) knows the 19
Cityscapes trainIds as they appear in the synthetic scenes; for real photographs, bring your own
network with :func:`load_torchscript_segmenter`.
"""

from __future__ import annotations

__all__ = [
    "WEIGHTS_PATH",
    "ClassMappedSegmenter",
    "Segmenter",
    "SegmenterConfig",
    "load_segmenter",
    "load_torchscript_segmenter",
    "segment",
]

from functools import lru_cache
from pathlib import Path

import torch

from simulator.metrics.segmentation.model import Segmenter, SegmenterConfig, fuse_batchnorm
from simulator.metrics.segmentation.torchscript import (
    ClassMappedSegmenter,
    load_torchscript_segmenter,
)
from simulator.metrics.segmentation.weights_io import load_weights

WEIGHTS_PATH: Path = Path(__file__).resolve().parent / "weights" / "segmenter.pt"
"""The shipped weights (written by ``python -m simulator.metrics.segmentation.training.train``)."""


def load_segmenter(
    device: str | torch.device = "cpu", path: str | Path | None = None
) -> torch.nn.Module:
    """The trained segmenter, in eval mode, batch norms folded into the convolutions.

    :param device: Where to put it.
    :param path: Weights file; default :data:`WEIGHTS_PATH`.
    :return: A module mapping float32 [B, 3, H, W] RGB in [0, 1] to logits [B, 19, H, W].
    :raises FileNotFoundError: The weights file is missing (train it first, see :mod:`.training.train`).
    """
    path = WEIGHTS_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"segmenter weights not found: {path}; train them with "
            "`python -m simulator.metrics.segmentation.training.train --out "
            f"{path}` or point the configuration at your own TorchScript segmenter"
        )
    model, _ = load_weights(path, device)
    return fuse_batchnorm(model)


@lru_cache(maxsize=4)
def _default_segmenter(device: str) -> torch.nn.Module:
    return load_segmenter(device)


@torch.inference_mode()
def segment(images: torch.Tensor, segmenter: torch.nn.Module | None = None) -> torch.Tensor:
    """Per-pixel class prediction.

    :param images: [B, 3, H, W], torch.float32, RGB in [0, 1].
    :param segmenter: A module returning logits [B, 19, H, W]; default: the shipped one, loaded
        once per device.
    :return: [B, H, W], torch.int64 trainIds (0-18), on the device of ``images``.
    """
    if segmenter is None:
        segmenter = _default_segmenter(str(images.device))
    return segmenter(images).argmax(1)
