"""Rasterised shapes in pixel coordinates: each returns the :class:`Region` of covered pixel centres."""

from __future__ import annotations

__all__ = [
    "box_grid",
    "coordinates",
    "ellipse",
    "polygon",
    "rectangle",
    "ring",
    "segment",
]

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from simulator.data.synthetic.canvas import Region

Coordinates = Sequence[float] | np.ndarray
"""Vertex coordinates: a 1-D array or a sequence of numbers."""


def coordinates(values: Coordinates) -> list[float]:
    """``values`` (an array or a sequence of numbers) as a list of Python floats."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False).tolist()
    return [float(v) for v in values]


@lru_cache(maxsize=16)
def _centres(count: int) -> np.ndarray:
    """[count] float32 pixel-centre coordinates ``k + 0.5`` (read-only, shared)."""
    centres = np.arange(count, dtype=np.float32) + np.float32(0.5)
    centres.setflags(write=False)
    return centres


def _pixel_box(
    shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float
) -> tuple[int, int, int, int] | None:
    """Rows ``[top, bottom)`` and columns ``[left, right)`` of the pixel centres in ``[x0, x1] x
    [y0, y1]``, clipped to an image of ``shape`` ``(H, W)``; `None` when there is none."""
    top, bottom = max(0, math.floor(y0 + 0.5)), min(shape[0], math.ceil(y1 - 0.5))
    left, right = max(0, math.floor(x0 + 0.5)), min(shape[1], math.ceil(x1 - 0.5))
    if bottom <= top or right <= left:
        return None
    return top, bottom, left, right


def box_grid(
    shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """The pixel box covering ``[x0, x1] x [y0, y1]`` clipped to an image of ``shape`` ``(H, W)``.

    :return: ``(top, left, yc, xc)`` with [h, 1] and [1, w] float32 pixel-centre coordinates
        (read-only), or `None` when the box holds no pixel centre.
    """
    box = _pixel_box(shape, x0, y0, x1, y1)
    if box is None:
        return None
    top, bottom, left, right = box
    return top, left, _centres(shape[0])[top:bottom, None], _centres(shape[1])[None, left:right]


def _region(top: int, left: int, mask: np.ndarray) -> Region | None:
    return Region(top, left, mask) if mask.any() else None


def rectangle(shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float) -> Region | None:
    """Axis-aligned rectangle ``[x0, x1) x [y0, y1)`` in pixels."""
    box = _pixel_box(shape, x0, y0, x1, y1)
    if box is None:
        return None
    top, bottom, left, right = box
    return Region.filled(top, left, bottom - top, right - left)


def ellipse(shape: tuple[int, int], cx: float, cy: float, rx: float, ry: float) -> Region | None:
    """Filled axis-aligned ellipse centred at ``(cx, cy)`` with radii ``rx, ry`` pixels."""
    rx, ry = max(rx, 0.5), max(ry, 0.5)
    grid = box_grid(shape, cx - rx, cy - ry, cx + rx, cy + ry)
    if grid is None:
        return None
    top, left, yc, xc = grid
    return _region(top, left, ((xc - cx) / rx) ** 2 + ((yc - cy) / ry) ** 2 <= 1.0)


def _edge_lines(px: list[float], py: list[float]) -> list[tuple[float, float, float]]:
    """``(a, b, c)`` per edge of a convex polygon (either winding order, degenerate edges left out):
    a point ``(x, y)`` is inside when ``a * y - b * x >= c`` for every edge."""
    n = len(px)
    edges = [(px[k], py[k], px[(k + 1) % n], py[(k + 1) % n]) for k in range(n)]
    sign = 1.0 if sum(ax * by - bx * ay for ax, ay, bx, by in edges) >= 0 else -1.0
    lines = []
    for ax, ay, bx, by in edges:
        # inside when sign * ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) >= 0
        a, b = sign * (bx - ax), sign * (by - ay)
        if a != 0.0 or b != 0.0:
            lines.append((a, b, a * ay - b * ax))
    return lines


def polygon(shape: tuple[int, int], xs: Coordinates, ys: Coordinates) -> Region | None:
    """Filled convex polygon with vertices ``(xs[k], ys[k])`` in either winding order."""
    px, py = coordinates(xs), coordinates(ys)
    grid = box_grid(shape, min(px), min(py), max(px), max(py))
    if grid is None:
        return None
    top, left, yc, xc = grid
    lines = _edge_lines(px, py)
    if not lines:  # all vertices at one point: its whole box
        return Region(top, left, np.ones((yc.shape[0], xc.shape[1]), dtype=bool))
    # every edge at once, in float32 like the pixel centres
    a, b, c = np.array(lines, dtype=np.float32).T[:, :, None, None]
    return _region(top, left, np.logical_and.reduce((a * yc) - (b * xc) >= c, axis=0))


def segment(
    shape: tuple[int, int], xa: float, ya: float, xb: float, yb: float, width: float
) -> Region | None:
    """A straight stroke from ``(xa, ya)`` to ``(xb, yb)`` of ``width`` pixels (at least one)."""
    dx, dy = xb - xa, yb - ya
    length = max(float(np.hypot(dx, dy)), 1e-6)
    half = max(width, 1.0) / 2
    nx, ny = -dy / length * half, dx / length * half
    return polygon(
        shape,
        np.array([xa + nx, xb + nx, xb - nx, xa - nx]),
        np.array([ya + ny, yb + ny, yb - ny, ya - ny]),
    )


def ring(
    shape: tuple[int, int], xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, inner: float
) -> Region | None:
    """A convex outline ``(xs, ys)`` minus the same outline shrunk by ``inner`` (0..1) about ``(cx, cy)``."""
    outer = polygon(shape, xs, ys)
    if outer is None or inner <= 0:
        return outer
    hole = polygon(shape, cx + (np.asarray(xs) - cx) * inner, cy + (np.asarray(ys) - cy) * inner)
    result = outer - hole
    return result if result.mask.any() else None
