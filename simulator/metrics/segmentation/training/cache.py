"""Labelled synthetic scenes generated once into memory, in parallel worker processes."""

from __future__ import annotations

__all__ = ["build_cache"]

import numpy as np
from torch.utils.data import DataLoader

from simulator.data import Sample, make_source


def _labelled(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    if sample.labels is None:
        raise ValueError(f"sample {sample.image_id} has no labels")
    return sample.image, sample.labels


def build_cache(
    split: str, num: int, height: int, width: int, seed: int, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``num`` synthetic scenes of a split into memory.

    :return: uint8 images [num, height, width, 3] and uint8 trainId labels [num, height, width].
    """
    source = make_source(
        "synthetic", root=None, num_images=num, height=height, width=width, seed=seed, split=split
    )
    images = np.empty((num, height, width, 3), dtype=np.uint8)
    labels = np.empty((num, height, width), dtype=np.uint8)
    loader = DataLoader(source, batch_size=None, num_workers=workers, collate_fn=_labelled)
    for i, (image, label) in enumerate(loader):
        images[i], labels[i] = image, label
    return images, labels
