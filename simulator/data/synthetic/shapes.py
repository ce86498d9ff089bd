"""Rasterised shapes in pixel coordinates: each returns the :class:`Region` of covered pixel centres."""

from __future__ import annotations

__all__ = ["box_grid", "ellipse", "polygon", "rectangle", "ring", "segment"]

import numpy as np

from simulator.data.synthetic.canvas import Region


def box_grid(
    shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """The pixel box covering ``[x0, x1] x [y0, y1]`` clipped to an image of ``shape`` ``(H, W)``.

    :return: ``(top, left, yc, xc)`` with [h, 1] and [1, w] float32 pixel-centre coordinates, or
        `None` when the box holds no pixel centre.
    """
    top, bottom = max(0, int(np.floor(y0 + 0.5))), min(shape[0], int(np.ceil(y1 - 0.5)))
    left, right = max(0, int(np.floor(x0 + 0.5))), min(shape[1], int(np.ceil(x1 - 0.5)))
    if bottom <= top or right <= left:
        return None
    yc = np.arange(top, bottom, dtype=np.float32)[:, None] + np.float32(0.5)
    xc = np.arange(left, right, dtype=np.float32)[None, :] + np.float32(0.5)
    return top, left, yc, xc


def _region(top: int, left: int, mask: np.ndarray) -> Region | None:
    return Region(top, left, mask) if mask.any() else None


def rectangle(shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float) -> Region | None:
    """Axis-aligned rectangle ``[x0, x1) x [y0, y1)`` in pixels."""
    grid = box_grid(shape, x0, y0, x1, y1)
    if grid is None:
        return None
    top, left, yc, xc = grid
    return Region(top, left, np.ones((yc.shape[0], xc.shape[1]), dtype=bool))


def ellipse(shape: tuple[int, int], cx: float, cy: float, rx: float, ry: float) -> Region | None:
    """Filled axis-aligned ellipse centred at ``(cx, cy)`` with radii ``rx, ry`` pixels."""
    rx, ry = max(rx, 0.5), max(ry, 0.5)
    grid = box_grid(shape, cx - rx, cy - ry, cx + rx, cy + ry)
    if grid is None:
        return None
    top, left, yc, xc = grid
    return _region(top, left, ((xc - cx) / rx) ** 2 + ((yc - cy) / ry) ** 2 <= 1.0)


def polygon(shape: tuple[int, int], xs: np.ndarray, ys: np.ndarray) -> Region | None:
    """Filled convex polygon with vertices ``(xs[k], ys[k])`` in either winding order."""
    xs, ys = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    grid = box_grid(shape, float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    if grid is None:
        return None
    top, left, yc, xc = grid
    area2 = float(np.sum(xs * np.roll(ys, -1) - np.roll(xs, -1) * ys))
    sign = np.float32(1.0 if area2 >= 0 else -1.0)
    mask = np.ones((yc.shape[0], xc.shape[1]), dtype=bool)
    for k in range(len(xs)):
        ax, ay, bx, by = xs[k], ys[k], xs[(k + 1) % len(xs)], ys[(k + 1) % len(xs)]
        mask &= sign * ((bx - ax) * (yc - ay) - (by - ay) * (xc - ax)) >= 0
    return _region(top, left, mask)


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
