"""Training pairs from a folder: ``DIR/<stem>.png`` images and ``DIR/labels/<stem>.png`` maps."""

from __future__ import annotations

__all__ = ["PairFolder"]

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from source_codecs.semantic_gan.pixels import to_signed
from source_codecs.semantic_gan.semantic_map import downscale_map, upscale_map


class PairFolder(Dataset):
    """Random crops (and horizontal flips) of image / label-map pairs.

    The label maps are degraded exactly as the receiver sees them: coded at 1 / ``map_factor``
    resolution (nearest neighbour) and repeated back to full size.

    :param root: folder with RGB ``*.png`` images and ``labels/<stem>.png`` uint8 trainId maps.
    :param crop: (height, width) of the crops, multiples of 16.
    :param map_factor: 1, 2 or 4.

    Crop positions and flips are drawn from torch's generator, which the ``DataLoader`` seeds
    differently in every worker (a numpy generator would be copied into each worker unchanged).

    :output image: [3, h, w], float32 in [-1, 1].
    :output labels: [h, w], int64 trainIds (255 = ignore).
    """

    def __init__(self, root: str | Path, crop: tuple[int, int], map_factor: int = 1) -> None:
        self.root = Path(root)
        self.images = sorted(p for p in self.root.glob("*.png"))
        if not self.images:
            raise FileNotFoundError(f"no *.png images in {self.root}")
        missing = [p.name for p in self.images if not (self.root / "labels" / p.name).is_file()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} images have no labels/ map, e.g. {missing[0]}")
        self.crop = crop
        self.map_factor = map_factor

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = np.asarray(Image.open(self.images[index]).convert("RGB"))
        labels = np.asarray(Image.open(self.root / "labels" / self.images[index].name))
        labels = upscale_map(downscale_map(labels, self.map_factor), self.map_factor, *labels.shape)
        h, w = self.crop
        if image.shape[0] < h or image.shape[1] < w:
            raise ValueError(f"{self.images[index].name} is smaller than the {h}x{w} crop")
        top = int(torch.randint(0, image.shape[0] - h + 1, ()))
        left = int(torch.randint(0, image.shape[1] - w + 1, ()))
        image, labels = (
            image[top : top + h, left : left + w],
            labels[top : top + h, left : left + w],
        )
        if torch.rand(()) < 0.5:
            image, labels = image[:, ::-1], labels[:, ::-1]
        x = to_signed(image)
        return x, torch.from_numpy(labels.astype(np.int64))
