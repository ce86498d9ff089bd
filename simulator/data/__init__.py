"""Data sources: synthetic street scenes, scikit-image photos, image folders and Cityscapes.

Every source is a :class:`DataSource`: a finite, indexable, deterministic sequence of :class:`Sample` s
(RGB uint8 images with optional Cityscapes trainId label maps), built by name with :func:`make_source`.
"""

from simulator.data.base import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    IGNORE_INDEX,
    NUM_CLASSES,
    DataConfigError,
    DataSource,
    Sample,
    colorize_labels,
)
from simulator.data.cityscapes import Cityscapes
from simulator.data.factory import SOURCES, SPLITS, make_source
from simulator.data.folder import ImageFolder
from simulator.data.samples import SkimagePhotos
from simulator.data.synthetic import SyntheticScenes

__all__ = [
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "IGNORE_INDEX",
    "NUM_CLASSES",
    "SOURCES",
    "SPLITS",
    "Cityscapes",
    "DataConfigError",
    "DataSource",
    "ImageFolder",
    "Sample",
    "SkimagePhotos",
    "SyntheticScenes",
    "colorize_labels",
    "make_source",
]
