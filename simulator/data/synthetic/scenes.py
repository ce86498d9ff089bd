"""Procedural urban street scenes with pixel-exact Cityscapes labels."""

from __future__ import annotations

__all__ = ["SPLIT_STREAMS", "SyntheticScenes", "render_scene"]

from functools import lru_cache

import numpy as np

from simulator.data.base import DataConfigError, DataSource, Sample
from simulator.data.synthetic.canvas import Canvas
from simulator.data.synthetic.facades import paint_street_end, paint_street_side
from simulator.data.synthetic.ground import paint_ground, paint_sky
from simulator.data.synthetic.layout import sample_layout
from simulator.data.synthetic.painter import Painter
from simulator.data.synthetic.population import populate

SPLIT_STREAMS: dict[str, int] = {"train": 0, "val": 1, "test": 2, "reference": 3}
"""Split -> random stream id: the scene of ``(seed, split, index)`` is drawn from
``np.random.default_rng([seed, stream, index])``, so the splits never share a scene. ``reference``
is reserved for the source's mean colour."""


def render_scene(
    rng: np.random.Generator, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one random street scene.

    Back to front: sky, ground (road, sidewalks, verges), the building closing the street, facades,
    walls / fences / hedges, then vehicles, people, furniture and trees from far to near. Each shape
    writes its colour and its trainId through the same mask, so the labels are exactly what was drawn.

    :param rng: Random generator (consumed).
    :param height: Image rows.
    :param width: Image columns.
    :return: ``(image, labels)``: [height, width, 3] uint8 RGB and [height, width] uint8 trainIds.
    """
    layout_rng, texture_rng, object_rng = rng.spawn(3)  # independent: same street at any size
    layout = sample_layout(layout_rng, height, width)
    canvas = Canvas(height, width, texture_rng)
    paint_sky(canvas, layout, texture_rng)
    paint_ground(canvas, layout)
    paint_street_end(canvas, layout)
    for side in (0, 1):
        paint_street_side(canvas, layout, side, layout.facade_x(side), layout.facades[side])
        paint_street_side(canvas, layout, side, layout.sidewalk_edge(side), layout.fences[side])
    painter = Painter(canvas, layout.camera)
    items = populate(object_rng, layout)
    for item, item_rng in zip(items, object_rng.spawn(len(items)), strict=True):
        item.draw(painter, item_rng)
    image = canvas.finish(texture_rng, layout.exposure, noise=float(layout_rng.uniform(1.0, 3.0)))
    return image, canvas.labels


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of scene ``index`` of ``split`` under ``seed``."""
    return np.random.default_rng([seed, SPLIT_STREAMS[split], index])


@lru_cache(maxsize=1)
def reference_mean_color() -> tuple[float, float, float]:
    """Mean RGB (0..255) over 32 scenes of the ``reference`` stream (seed 0) at 128 x 256."""
    total = np.zeros(3)
    count = 32
    for index in range(count):
        image, _ = render_scene(scene_rng(0, "reference", index), 128, 256)
        total += image.reshape(-1, 3).mean(axis=0)
    return tuple(float(v) for v in total / count)


class SyntheticScenes(DataSource):
    """Procedural street scenes labelled with the 19 Cityscapes trainIds (see :func:`render_scene`).

    Scene ``i`` depends only on ``(seed, split, i)`` and is drawn in normalised coordinates, so any
    ``height x width`` shows the same street. Train, val and test use separate random streams.

    :param num_images: Number of scenes.
    :param height: Image rows.
    :param width: Image columns.
    :param seed: Dataset seed.
    :param split: ``train``, ``val`` or ``test``.

    The mean colour is the mean over 32 scenes of a reserved ``reference`` stream (the same for every
    seed, split and size), never of the scenes being sent.

    >>> scenes = SyntheticScenes(num_images=4, height=64, width=128, seed=0, split="test")
    >>> sample = scenes[0]
    >>> sample.image.shape, sample.labels.shape, sample.image_id
    ((64, 128, 3), (64, 128), 'synthetic-test-0-000000')
    """

    name = "synthetic"

    def __init__(
        self, num_images: int, height: int, width: int, seed: int = 0, split: str = "test"
    ) -> None:
        if split not in ("train", "val", "test"):
            raise DataConfigError(f"unknown split '{split}'; choose from train, val, test")
        if height < 8 or width < 8:
            raise DataConfigError(
                f"synthetic scenes need at least 8x8 pixels, got {height}x{width}"
            )
        self.num_images, self.height, self.width = num_images, height, width
        self.seed, self.split = seed, split

    def __len__(self) -> int:
        return self.num_images

    def _load(self, index: int) -> Sample:
        image, labels = render_scene(
            scene_rng(self.seed, self.split, index), self.height, self.width
        )
        return Sample(image, labels, f"synthetic-{self.split}-{self.seed}-{index:06d}")

    @property
    def mean_color(self) -> np.ndarray:
        return np.array(reference_mean_color(), dtype=np.float64)

    @property
    def has_labels(self) -> bool:
        return True
