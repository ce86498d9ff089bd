"""The ``samples`` source: the public-domain photographs that ship with scikit-image."""

from __future__ import annotations

__all__ = ["NATURAL_IMAGE_MEAN", "SAMPLE_PHOTOS", "SkimagePhotos"]

from functools import lru_cache

import numpy as np
import skimage.data

from simulator.data.base import DataConfigError, DataSource, Sample
from simulator.data.resize import fit_image

SAMPLE_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "coins",
    "moon",
    "clock",
    "brick",
    "grass",
    "gravel",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
)
"""Candidate photographs of ``skimage.data``, in cycling order (grey ones are repeated to RGB)."""

NATURAL_IMAGE_MEAN: np.ndarray = np.array([0.485, 0.456, 0.406]) * 255.0
"""[3] float64: the ImageNet training-set mean colour (0..255), the documented prior of natural photos."""
NATURAL_IMAGE_MEAN.flags.writeable = False


@lru_cache(maxsize=1)
def available_photos() -> tuple[str, ...]:
    """The names in :data:`SAMPLE_PHOTOS` that load offline in this scikit-image installation."""
    names = []
    for name in SAMPLE_PHOTOS:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            continue
        try:
            loader()
        except (OSError, ImportError, ValueError):  # needs pooch / a download
            continue
        names.append(name)
    return tuple(names)


class SkimagePhotos(DataSource):
    """The scikit-image photographs, centre-cropped to ``width/height`` and resized; no labels.

    Sample ``i`` is photo ``i mod P`` of :func:`available_photos` (P of them), so ``num_images`` cycles
    through the collection deterministically; the ``image_id`` of a repeat carries its cycle number.

    :param num_images: Number of samples.
    :param height: Image height in pixels.
    :param width: Image width in pixels.

    The mean colour is :data:`NATURAL_IMAGE_MEAN`: the photos are the images being sent, so their own
    mean would make a failed decode look better than it is.
    """

    name = "samples"

    def __init__(self, num_images: int, height: int, width: int) -> None:
        self.photos = available_photos()
        if not self.photos:
            raise DataConfigError("source 'samples': no scikit-image photo can be loaded offline")
        self.num_images, self.height, self.width = num_images, height, width

    def __len__(self) -> int:
        return self.num_images

    def _load(self, index: int) -> Sample:
        cycle, k = divmod(index, len(self.photos))
        name = self.photos[k]
        image = fit_image(getattr(skimage.data, name)(), self.height, self.width)
        return Sample(image, None, name if cycle == 0 else f"{name}#{cycle}")

    @property
    def mean_color(self) -> np.ndarray:
        return NATURAL_IMAGE_MEAN.copy()

    @property
    def has_labels(self) -> bool:
        return False
