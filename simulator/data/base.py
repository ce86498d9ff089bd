"""The data-source interface shared by the simulator and the segmenter training code.

A data source is a finite, indexable, deterministic sequence of :class:`Sample` s: RGB images with
optional pixel labels in the 19 Cityscapes *trainIds* (``255`` = ignore).
"""

from __future__ import annotations

__all__ = [
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "IGNORE_INDEX",
    "NUM_CLASSES",
    "DataConfigError",
    "DataSource",
    "Sample",
    "colorize_labels",
]

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from source_codecs.labels import IGNORE_INDEX, NUM_CLASSES

CITYSCAPES_CLASSES: tuple[str, ...] = (
    "road",
    "sidewalk",
    "building",
    "wall",
    "fence",
    "pole",
    "traffic light",
    "traffic sign",
    "vegetation",
    "terrain",
    "sky",
    "person",
    "rider",
    "car",
    "truck",
    "bus",
    "train",
    "motorcycle",
    "bicycle",
)
"""The :data:`~source_codecs.labels.NUM_CLASSES` evaluated Cityscapes classes, indexed by trainId."""

CITYSCAPES_PALETTE: np.ndarray = np.array(
    [
        (128, 64, 128),
        (244, 35, 232),
        (70, 70, 70),
        (102, 102, 156),
        (190, 153, 153),
        (153, 153, 153),
        (250, 170, 30),
        (220, 220, 0),
        (107, 142, 35),
        (152, 251, 152),
        (70, 130, 180),
        (220, 20, 60),
        (255, 0, 0),
        (0, 0, 142),
        (0, 0, 70),
        (0, 60, 100),
        (0, 80, 100),
        (0, 0, 230),
        (119, 11, 32),
    ],
    dtype=np.uint8,
)
"""[19, 3] uint8: the official Cityscapes colour of each trainId (cityscapesScripts ``labels.py``)."""
CITYSCAPES_PALETTE.flags.writeable = False


class DataConfigError(ValueError):
    """A data source cannot be built from the given settings; the message is one readable line."""


@dataclass(frozen=True)
class Sample:
    """One image of a data source.

    :param image: [H, W, 3] uint8 RGB image.
    :param labels: [H, W] uint8 trainIds (``255`` = ignore), or `None` when the source has no labels.
    :param image_id: Stable identifier of the image within its source (used in ``per_image.csv``).
    """

    image: np.ndarray
    labels: np.ndarray | None
    image_id: str


class DataSource(ABC):
    """A finite, indexable, deterministic sequence of :class:`Sample` s of one fixed size.

    ``source[i]`` returns the same sample every time it is called (for a given construction).

    :ivar name: Name of the source (``synthetic``, ``samples``, ``folder``, ``cityscapes``).
    :ivar height: Image height in pixels.
    :ivar width: Image width in pixels.
    """

    name: str
    height: int
    width: int

    @abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    @abstractmethod
    def _load(self, index: int) -> Sample:
        """Build sample ``index`` (``0 <= index < len(self)``)."""

    def __getitem__(self, index: int) -> Sample:
        """Sample ``index``; negative indices count from the end, like a list.

        :raises IndexError: The index is outside the source.
        """
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"{self.name}: index {index} out of range for {n} samples")
        return self._load(index % n)

    @property
    @abstractmethod
    def mean_color(self) -> np.ndarray:
        """[3] float64 in 0..255: the per-channel mean colour of this source.

        Fixed per source (a documented constant or a mean over a fixed reference set), never computed
        from the images being sent; the simulator uses it as the image of a failed decode.
        """

    @property
    @abstractmethod
    def has_labels(self) -> bool:
        """Whether the samples carry label maps (``Sample.labels`` is not `None`)."""


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """Colour a trainId map with :data:`CITYSCAPES_PALETTE`; ignore pixels become black.

    :param labels: [..., H, W] uint8 trainIds.
    :return: [..., H, W, 3] uint8 RGB.
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:NUM_CLASSES] = CITYSCAPES_PALETTE
    return lut[labels]
