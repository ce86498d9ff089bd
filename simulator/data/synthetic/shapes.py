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
    px, py = np.asarray(xs, dtype=np.float64).tolist(), np.asarray(ys, dtype=np.float64).tolist()
    grid = box_grid(shape, min(px), min(py), max(px), max(py))
    if grid is None:
        return None
    top, left, yc, xc = grid
    n = len(px)
    edges = [(px[k], py[k], px[(k + 1) % n], py[(k + 1) % n]) for k in range(n)]
    sign = 1.0 if sum(ax * by - bx * ay for ax, ay, bx, by in edges) >= 0 else -1.0
    mask = np.ones((yc.shape[0], xc.shape[1]), dtype=bool)
    for ax, ay, bx, by in edges:
        # inside when sign * ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) >= 0
        a, b = sign * (bx - ax), sign * (by - ay)
        if a == 0.0 and b == 0.0:
            continue
        mask &= (a * yc) - (b * xc) >= np.float32(a * ay - b * ax)
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
