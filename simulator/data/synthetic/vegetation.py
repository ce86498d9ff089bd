"""Trees and bushes: ragged, strongly textured foliage on frontal planes (label ``vegetation``)."""

from __future__ import annotations

__all__ = ["draw_bush", "draw_tree"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.canvas import Region
from simulator.data.synthetic.painter import Painter
from simulator.data.synthetic.shapes import box_grid

VEGETATION = CITYSCAPES_CLASSES.index("vegetation")
_LEAVES = np.array([(70, 105, 40), (95, 125, 50), (55, 85, 45), (120, 130, 60)], np.float32)


def _foliage(
    p: Painter, z: float, cx: float, cy: float, rx: float, ry: float, rgb: np.ndarray
) -> None:
    """A blob whose outline is the ellipse ``(cx, cy, rx, ry)`` (metres) roughened by the canvas grain."""
    u, v = (np.float64(c) for c in p.camera.point(cx, cy, z))  # the blob's pixels in float64
    s = p.camera.scale(z)
    ax, ay = rx * s * 1.3 + 0.5, ry * s * 1.3 + 0.5
    grid = box_grid(p.shape, float(u) - ax, float(v) - ay, float(u) + ax, float(v) + ay)
    if grid is None:
        return
    top, left, yc, xc = grid
    rows, cols = slice(top, top + yc.shape[0]), slice(left, left + xc.shape[1])
    dy = (yc - v) / (ry * s + 0.5)  # [h, 1]
    r2 = ((xc - u) / (rx * s + 0.5)) ** 2 + dy**2
    mask = r2 < 1.0 + 0.6 * p.canvas.grain[rows, cols] + 0.3 * p.canvas.blotch[rows, cols]
    if not mask.any():
        return
    region = Region(top, left, mask)
    light = np.minimum(np.maximum(1.15 - 0.35 * dy, 0.7), 1.3)  # lit from above
    p.canvas.paint(region, rgb[:, None, None] * light, VEGETATION, texture=0.45, stains=0.15)


def draw_tree(p: Painter, rng: np.random.Generator, x: float, z: float) -> None:
    """A tree at ``(x, z)``: a trunk and a crown of a few overlapping ragged blobs."""
    trunk_h = float(rng.uniform(1.8, 4.0))
    crown = float(rng.uniform(1.5, 3.2))
    p.paint(
        p.box(z, x - 0.15, 0.0, x + 0.15, trunk_h + crown * 0.5),
        np.array((85, 65, 45)),
        VEGETATION,
        texture=0.2,
    )
    rgb = _LEAVES[rng.integers(len(_LEAVES))]
    for _ in range(int(rng.integers(2, 5))):
        dx, dy = rng.normal(0.0, crown * 0.35, 2)
        r = crown * float(rng.uniform(0.55, 0.85))
        _foliage(
            p,
            z,
            x + dx,
            trunk_h + crown + dy,
            r,
            r * float(rng.uniform(0.8, 1.1)),
            rgb * np.float32(rng.uniform(0.85, 1.1)),
        )


def draw_bush(p: Painter, rng: np.random.Generator, x: float, z: float) -> None:
    """A low bush standing on the ground at ``(x, z)``."""
    r = float(rng.uniform(0.4, 1.0))
    _foliage(
        p, z, x, r * 0.8, r * float(rng.uniform(1.0, 1.8)), r, _LEAVES[rng.integers(len(_LEAVES))]
    )
