"""Training pairs from a folder: ``DIR/<stem>.png`` images and ``DIR/labels/<stem>.png`` maps."""

from __future__ import annotations

__all__ = ["PairFolder"]

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from source_codecs.labels import NUM_CLASSES
from source_codecs.semantic_gan.pixels import to_signed
from source_codecs.semantic_gan.semantic_map import downscale_map, upscale_map

RARE_TEMPERATURE = 0.01
"""T of rare-class sampling: class c is drawn with probability proportional to exp((1 - f_c) / T),
f_c its share of the labelled pixels (DAFormer's value, Hoyer et al., CVPR 2022)."""

FREQUENCY_MAPS = 256
"""At most this many label maps, evenly spaced through the folder, estimate the class shares."""


class PairFolder(Dataset):
    """Random crops (and horizontal flips) of image / label-map pairs.

    The label maps are degraded exactly as the receiver sees them: coded at 1 / ``map_factor``
    resolution (nearest neighbour) and repeated back to full size.

    With probability ``rare_crops`` a crop is placed on a rare class instead of anywhere (rare-class
    sampling, after DAFormer's): one of the classes in the image's map is drawn, the rarer in the
    folder the likelier (:data:`RARE_TEMPERATURE`), then one of its pixels, and the crop is placed at
    random among those that hold that pixel. Small classes (signs, lights, riders, bicycles) fill a
    few hundred pixels of a 256x512 scene, so a uniform 64x128 crop seldom shows the generator one.

    :param root: folder with RGB ``*.png`` images and ``labels/<stem>.png`` uint8 trainId maps.
    :param crop: (height, width) of the crops, multiples of 16.
    :param map_factor: 1, 2 or 4.
    :param rare_crops: probability in [0, 1] of a crop placed on a rare class.

    Crop positions and flips are drawn from torch's generator, which the ``DataLoader`` seeds
    differently in every worker (a numpy generator would be copied into each worker unchanged).

    :output image: [3, h, w], float32 in [-1, 1].
    :output labels: [h, w], int64 trainIds (255 = ignore).
    """

    def __init__(
        self, root: str | Path, crop: tuple[int, int], map_factor: int = 1, rare_crops: float = 0.0
    ) -> None:
        self.root = Path(root)
        self.images = sorted(p for p in self.root.glob("*.png"))
        if not self.images:
            raise FileNotFoundError(f"no *.png images in {self.root}")
        missing = [p.name for p in self.images if not (self.root / "labels" / p.name).is_file()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} images have no labels/ map, e.g. {missing[0]}")
        if not 0.0 <= rare_crops <= 1.0:
            raise ValueError(f"rare_crops must be in [0, 1], got {rare_crops}")
        self.crop = crop
        self.map_factor = map_factor
        self.rare_crops = rare_crops
        self.class_weights = self._class_weights() if rare_crops > 0 else None
        """float64 [NUM_CLASSES], exp((1 - f_c) / T) up to a common factor; None without rare crops."""

    def __len__(self) -> int:
        return len(self.images)

    def _labels(self, index: int) -> np.ndarray:
        return np.asarray(Image.open(self.root / "labels" / self.images[index].name))

    def _class_weights(self) -> np.ndarray:
        step = max(1, len(self.images) // FREQUENCY_MAPS)
        counts = sum(
            np.bincount(self._labels(i).ravel(), minlength=256)[:NUM_CLASSES].astype(np.float64)
            for i in range(0, len(self.images), step)
        )
        share = counts / max(counts.sum(), 1.0)
        return np.exp((share.min() - share) / RARE_TEMPERATURE)  # the rarest class weighs 1

    def _crop_origin(self, labels: np.ndarray) -> tuple[int, int]:
        """Top-left corner of the crop in ``labels`` [H, W]: uniform, or on a rare class."""
        (h, w), (height, width) = self.crop, labels.shape
        if self.class_weights is not None and torch.rand(()) < self.rare_crops:
            present = np.flatnonzero(np.bincount(labels.ravel(), minlength=256)[:NUM_CLASSES])
            if present.size:
                weights = torch.from_numpy(self.class_weights[present])
                cls = present[int(torch.multinomial(weights, 1))]
                rows, cols = np.nonzero(labels == cls)
                pick = int(torch.randint(0, rows.size, ()))
                r, c = int(rows[pick]), int(cols[pick])
                top = r - int(torch.randint(0, h, ()))
                left = c - int(torch.randint(0, w, ()))
                return min(max(top, 0), height - h), min(max(left, 0), width - w)
        return (
            int(torch.randint(0, height - h + 1, ())),
            int(torch.randint(0, width - w + 1, ())),
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = np.asarray(Image.open(self.images[index]).convert("RGB"))
        labels = self._labels(index)
        labels = upscale_map(downscale_map(labels, self.map_factor), self.map_factor, *labels.shape)
        h, w = self.crop
        if image.shape[0] < h or image.shape[1] < w:
            raise ValueError(f"{self.images[index].name} is smaller than the {h}x{w} crop")
        top, left = self._crop_origin(labels)
        image, labels = (
            image[top : top + h, left : left + w],
            labels[top : top + h, left : left + w],
        )
        if torch.rand(()) < 0.5:
            image, labels = image[:, ::-1], labels[:, ::-1]
        x = to_signed(image)
        return x, torch.from_numpy(labels.astype(np.int64))
