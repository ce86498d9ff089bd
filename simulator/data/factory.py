"""Building a data source by name, as the YAML ``data:`` section names it."""

from __future__ import annotations

__all__ = ["SOURCES", "SPLITS", "make_source"]

from collections.abc import Callable

from simulator.data.base import DataConfigError, DataSource
from simulator.data.cityscapes import Cityscapes
from simulator.data.folder import ImageFolder
from simulator.data.samples import SkimagePhotos
from simulator.data.synthetic import SyntheticScenes

SPLITS: tuple[str, ...] = ("train", "val", "test")


def _root(source: str, root: str | None) -> str:
    if not root:
        raise DataConfigError(f"source '{source}' needs a root folder (data.root)")
    return root


_Builder = Callable[[str | None, int, int, int, int, str], DataSource]

SOURCES: dict[str, _Builder] = {
    "synthetic": lambda root, n, h, w, seed, split: SyntheticScenes(n, h, w, seed, split),
    "samples": lambda root, n, h, w, seed, split: SkimagePhotos(n, h, w),
    "folder": lambda root, n, h, w, seed, split: ImageFolder(_root("folder", root), n, h, w),
    "cityscapes": lambda root, n, h, w, seed, split: Cityscapes(
        _root("cityscapes", root), n, h, w, split
    ),
}
"""Source name -> builder ``(root, num_images, height, width, seed, split) -> DataSource``."""


def make_source(
    source: str,
    *,
    root: str | None,
    num_images: int,
    height: int,
    width: int,
    seed: int,
    split: str = "test",
) -> DataSource:
    """Build the data source named ``source``.

    :param source: ``synthetic``, ``samples``, ``folder`` or ``cityscapes``.
    :param root: Folder of ``folder`` and ``cityscapes``; ignored by the others.
    :param num_images: Number of images (``folder``/``cityscapes``: at most this many).
    :param height: Image height in pixels.
    :param width: Image width in pixels.
    :param seed: Seed of the ``synthetic`` scenes; ignored by the others.
    :param split: ``train``, ``val`` or ``test`` (``synthetic`` and ``cityscapes``).
    :raises DataConfigError: Unknown source or split, bad sizes, or a source that cannot be read;
        the message is one line.

    >>> src = make_source("synthetic", root=None, num_images=2, height=64, width=128, seed=0)
    >>> src[0].image.shape, src[0].labels.shape
    ((64, 128, 3), (64, 128))
    """
    if source not in SOURCES:
        raise DataConfigError(f"unknown source '{source}'; choose from {', '.join(SOURCES)}")
    if split not in SPLITS:
        raise DataConfigError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    if num_images < 1:
        raise DataConfigError(f"num_images must be at least 1, got {num_images}")
    if height < 1 or width < 1:
        raise DataConfigError(f"height and width must be positive, got {height}x{width}")
    return SOURCES[source](root, num_images, height, width, seed, split)
