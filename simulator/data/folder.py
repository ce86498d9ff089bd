"""The ``folder`` source: your own images, with optional trainId label maps.

Layout::

    root/
      img_001.png          any of .png .jpg .jpeg .bmp .tif .tiff .webp .ppm (case-insensitive)
      img_002.jpg
      labels/              optional
        img_001.png        uint8 single-channel PNG of Cityscapes trainIds (0..18, 255 = ignore),
        img_002.png        same stem and same size as its image

Images are taken sorted by file name; the first ``num_images`` are used (all of them when there are
fewer). When ``root/labels/`` exists every used image must have its label map.
"""

from __future__ import annotations

__all__ = ["IMAGE_SUFFIXES", "ImageFolder"]

from pathlib import Path

import numpy as np
from PIL import Image

from simulator.data.base import IGNORE_INDEX, NUM_CLASSES, DataConfigError, Sample
from simulator.data.files import ImageFiles
from simulator.data.resize import fit_image, fit_labels, read_image
from simulator.data.samples import NATURAL_IMAGE_MEAN

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"}
)


def read_label_map(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Read a trainId PNG and check it against the image it belongs to.

    :param path: Single-channel (mode ``L`` or ``P``) 8-bit PNG.
    :param shape: ``(H, W)`` of the image.
    :return: [H, W] uint8 trainIds.
    :raises DataConfigError: Wrong mode, wrong size or values outside ``{0..18, 255}``.
    """
    with Image.open(path) as pil:
        if pil.mode not in ("L", "P"):
            raise DataConfigError(
                f"label map {path}: mode {pil.mode}, expected 8-bit single channel"
            )
        labels = np.asarray(pil, dtype=np.uint8)
    if labels.shape != shape:
        raise DataConfigError(
            f"label map {path}: size {labels.shape} differs from its image {shape}"
        )
    bad = np.setdiff1d(np.unique(labels), [*range(NUM_CLASSES), IGNORE_INDEX])
    if bad.size:
        raise DataConfigError(
            f"label map {path}: values {bad.tolist()} are not trainIds 0..18 or 255"
        )
    return labels


class ImageFolder(ImageFiles):
    """Images of a folder (see the module docstring), centre-cropped and resized to ``height x width``.

    :param root: The folder.
    :param num_images: Maximum number of images used.
    :param height: Image height in pixels.
    :param width: Image width in pixels.
    :raises DataConfigError: Missing folder, no image in it, or a missing label map.

    The mean colour is :data:`~simulator.data.samples.NATURAL_IMAGE_MEAN`, a constant: the folder holds
    the images being sent.
    """

    name = "folder"

    def __init__(self, root: str | Path, num_images: int, height: int, width: int) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataConfigError(f"source 'folder': root '{self.root}' is not a directory")
        files = sorted(
            p for p in self.root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise DataConfigError(
                f"source 'folder': no image ({', '.join(sorted(IMAGE_SUFFIXES))}) in '{self.root}'"
            )
        self.files = files[:num_images]
        self.height, self.width = height, width
        label_dir = self.root / "labels"
        if label_dir.is_dir():
            labels = [label_dir / f"{p.stem}.png" for p in self.files]
            self.attach_labels(labels, "image(s) lack a label map")

    def _load(self, index: int) -> Sample:
        path = self.files[index]
        raw = read_image(path)
        labels = None
        if self.label_files is not None:
            raw_labels = read_label_map(self.label_files[index], raw.shape[:2])
            labels = fit_labels(raw_labels, self.height, self.width)
        return Sample(fit_image(raw, self.height, self.width), labels, path.stem)

    @property
    def mean_color(self) -> np.ndarray:
        return NATURAL_IMAGE_MEAN.copy()
