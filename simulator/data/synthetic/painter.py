"""Drawing world-space shapes (metres) through the camera onto the canvas."""

from __future__ import annotations

__all__ = ["Painter"]

import numpy as np

from simulator.data.synthetic import shapes
from simulator.data.synthetic.camera import Camera
from simulator.data.synthetic.canvas import Canvas, Region
from simulator.data.synthetic.shapes import Coordinates

_CIRCLE = np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False)
_COS, _SIN = np.cos(_CIRCLE), np.sin(_CIRCLE)


class Painter:
    """World-space drawing: planar convex polygons, discs and strokes, projected by ``camera``.

    Shapes lie either on a *frontal* plane (constant depth ``Z``; coordinates ``(X, Y)``) or on a
    *side* plane (constant ``X``; coordinates ``(Z, Y)``), or on the ground (``Y = 0``). All sizes are
    metres; ``Y`` is the height above the ground.

    :param canvas: Where to paint.
    :param camera: How to project.
    """

    def __init__(self, canvas: Canvas, camera: Camera) -> None:
        self.canvas, self.camera = canvas, camera
        self.shape = (canvas.height, canvas.width)

    def _project(
        self, x: Coordinates, y: Coordinates, z: Coordinates
    ) -> tuple[list[float], list[float]]:
        """Image positions ``(u, v)`` of the world points ``(x[k], y[k], z[k])``."""
        points = [
            self.camera.point(*p) for p in zip(*map(shapes.coordinates, (x, y, z)), strict=True)
        ]
        return [u for u, _ in points], [v for _, v in points]

    def region(self, x: Coordinates, y: Coordinates, z: Coordinates) -> Region | None:
        """Pixels of the convex world polygon with vertices ``(x[k], y[k], z[k])`` (all ``z > 0``)."""
        return shapes.polygon(self.shape, *self._project(x, y, z))

    def frontal(self, z: float, x: Coordinates, y: Coordinates) -> Region | None:
        """Pixels of a convex polygon on the frontal plane at depth ``z``."""
        return self.region(x, y, [z] * len(x))

    def side(self, x: float, z: Coordinates, y: Coordinates) -> Region | None:
        """Pixels of a convex polygon on the side plane at lateral offset ``x``."""
        return self.region([x] * len(z), y, z)

    def box(self, z: float, x0: float, y0: float, x1: float, y1: float) -> Region | None:
        """Pixels of the frontal rectangle ``[x0, x1] x [y0, y1]`` at depth ``z``."""
        cam = self.camera
        s = cam.focal / z
        v0, v1 = cam.horizon + s * (cam.elevation - y1), cam.horizon + s * (cam.elevation - y0)
        return shapes.rectangle(self.shape, cam.center + s * x0, v0, cam.center + s * x1, v1)

    def ground(self, x: Coordinates, z: Coordinates) -> Region | None:
        """Pixels of a convex polygon lying on the ground, vertices ``(x[k], z[k])``."""
        return self.region(x, [0.0] * len(x), z)

    def disc(
        self, plane: str, at: float, cu: float, cy: float, radius: float, inner: float = 0.0
    ) -> Region | None:
        """A disc (or ring with hole ``inner`` x radius) of ``radius`` metres centred at ``(cu, cy)``.

        :param plane: ``"frontal"`` (``at`` = Z, ``cu`` = X) or ``"side"`` (``at`` = X, ``cu`` = Z).
        """
        a, b = cu + radius * _COS, cy + radius * _SIN
        const = [at] * len(a)
        u, v = self._project(a, b, const) if plane == "frontal" else self._project(const, b, a)
        cx, cv = self.camera.point(*((cu, cy, at) if plane == "frontal" else (at, cy, cu)))
        return shapes.ring(self.shape, u, v, float(cx), float(cv), inner)

    def on_plane(self, plane: str, at: float, u: np.ndarray, y: np.ndarray) -> Region | None:
        """Pixels of a convex polygon with in-plane vertices ``(u[k], y[k])``.

        :param plane: ``"frontal"`` (``at`` = Z, ``u`` = X) or ``"side"`` (``at`` = X, ``u`` = Z).
        """
        return self.frontal(at, u, y) if plane == "frontal" else self.side(at, u, y)

    def line(
        self, plane: str, at: float, ua: float, ya: float, ub: float, yb: float, width: float
    ) -> Region | None:
        """A straight bar ``width`` metres wide from ``(ua, ya)`` to ``(ub, yb)`` on a plane (see
        :meth:`on_plane`), at least one pixel wide."""
        du, dy = ub - ua, yb - ya
        length = max(float(np.hypot(du, dy)), 1e-6)
        z_near = at if plane == "frontal" else max(min(ua, ub), 0.1)
        half = max(width, 1.0 / self.camera.scale(z_near)) / 2
        nu, ny = -dy / length * half, du / length * half
        return self.on_plane(
            plane,
            at,
            np.array([ua + nu, ub + nu, ub - nu, ua - nu]),
            np.array([ya + ny, yb + ny, yb - ny, ya - ny]),
        )

    def ellipse(self, z: float, cx: float, cy: float, rx: float, ry: float) -> Region | None:
        """A frontal axis-aligned ellipse at depth ``z`` (centre and radii in metres)."""
        u, v = self.camera.point(cx, cy, z)
        s = self.camera.scale(z)
        return shapes.ellipse(self.shape, float(u), float(v), rx * s, ry * s)

    def paint(
        self,
        region: Region | None,
        color: np.ndarray,
        label: int,
        texture: float = 0.04,
        stains: float = 0.0,
    ) -> None:
        """Paint ``region`` (see :meth:`Canvas.paint`)."""
        self.canvas.paint(region, color, label, texture, stains)
