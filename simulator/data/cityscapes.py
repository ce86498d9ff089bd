"""The ``cityscapes`` source: the official Cityscapes release read from disk.

Expected layout (as unpacked from ``leftImg8bit_trainvaltest.zip`` and ``gtFine_trainvaltest.zip``)::

    root/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    root/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png

Label ids are mapped to the 19 trainIds with the official table (everything else -> 255). The public
``test`` split has no real annotations: its label maps are all void, hence all 255 here.
"""

from __future__ import annotations

__all__ = ["CITYSCAPES_MEAN", "LABEL_TO_TRAIN_ID", "Cityscapes", "label_ids_to_train_ids"]

from pathlib import Path

import numpy as np
from PIL import Image

from simulator.data.base import IGNORE_INDEX, DataConfigError, Sample
from simulator.data.files import ImageFiles
from simulator.data.resize import fit_image, fit_labels, read_image

# labelId -> trainId of the 19 evaluated classes (cityscapesScripts ``helpers/labels.py``).
_EVALUATED: dict[int, int] = {
    7: 0,  # road
    8: 1,  # sidewalk
    11: 2,  # building
    12: 3,  # wall
    13: 4,  # fence
    17: 5,  # pole
    19: 6,  # traffic light
    20: 7,  # traffic sign
    21: 8,  # vegetation
    22: 9,  # terrain
    23: 10,  # sky
    24: 11,  # person
    25: 12,  # rider
    26: 13,  # car
    27: 14,  # truck
    28: 15,  # bus
    31: 16,  # train
    32: 17,  # motorcycle
    33: 18,  # bicycle
}

LABEL_TO_TRAIN_ID: np.ndarray = np.full(256, IGNORE_INDEX, dtype=np.uint8)
"""[256] uint8 look-up table: ``LABEL_TO_TRAIN_ID[label_id]`` is the trainId (255 = ignore)."""
LABEL_TO_TRAIN_ID[list(_EVALUATED)] = list(_EVALUATED.values())
LABEL_TO_TRAIN_ID.flags.writeable = False

CITYSCAPES_MEAN: np.ndarray = np.array([0.28689529, 0.32513294, 0.28389176]) * 255.0
"""[3] float64: the per-channel RGB mean of the Cityscapes train images (0..255), the constant that
Cityscapes segmentation code normalises with (0.2869, 0.3251, 0.2839 in 0..1)."""
CITYSCAPES_MEAN.flags.writeable = False

_IMAGE_SUFFIX = "_leftImg8bit.png"
_LABEL_SUFFIX = "_gtFine_labelIds.png"


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map Cityscapes labelIds to trainIds.

    :param label_ids: [H, W] uint8 labelIds (0..33).
    :return: [H, W] uint8 trainIds (0..18, 255 = ignore).
    """
    return LABEL_TO_TRAIN_ID[label_ids]


class Cityscapes(ImageFiles):
    """Cityscapes images (and fine labels, when ``gtFine`` is present) resized to ``height x width``.

    The first ``num_images`` frames of ``split`` sorted by path (city, then frame) are used. Images are
    centre-cropped to ``width/height`` (none for the native 2:1) and resized with Lanczos, labels with
    nearest neighbour.

    :param root: Dataset root holding ``leftImg8bit/`` (and ``gtFine/``).
    :param num_images: Maximum number of frames.
    :param height: Image height in pixels.
    :param width: Image width in pixels.
    :param split: ``train``, ``val`` or ``test``.
    :raises DataConfigError: Missing root or split, no frame, or a frame without its label map.
    """

    name = "cityscapes"

    def __init__(
        self, root: str | Path, num_images: int, height: int, width: int, split: str = "test"
    ) -> None:
        self.root = Path(root).expanduser()
        image_dir = self.root / "leftImg8bit" / split
        if not image_dir.is_dir():
            raise DataConfigError(
                f"source 'cityscapes': '{image_dir}' not found (expected root/leftImg8bit/{split}/<city>/)"
            )
        files = sorted(image_dir.glob(f"*/*{_IMAGE_SUFFIX}"))
        if not files:
            raise DataConfigError(f"source 'cityscapes': no *{_IMAGE_SUFFIX} under '{image_dir}'")
        self.files = files[:num_images]
        self.height, self.width, self.split = height, width, split
        label_dir = self.root / "gtFine" / split
        if label_dir.is_dir():
            labels = [
                label_dir / p.parent.name / (p.name[: -len(_IMAGE_SUFFIX)] + _LABEL_SUFFIX)
                for p in self.files
            ]
            self.attach_labels(labels, "frame(s) lack gtFine labels")

    def _load(self, index: int) -> Sample:
        path = self.files[index]
        labels = None
        if self.label_files is not None:
            with Image.open(self.label_files[index]) as pil:
                label_ids = np.asarray(pil, dtype=np.uint8)
            labels = fit_labels(label_ids_to_train_ids(label_ids), self.height, self.width)
        image = fit_image(read_image(path), self.height, self.width)
        return Sample(image, labels, path.name[: -len(_IMAGE_SUFFIX)])

    @property
    def mean_color(self) -> np.ndarray:
        return CITYSCAPES_MEAN.copy()
