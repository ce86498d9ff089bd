"""A pinhole camera above a flat street: world metres to image pixels."""

from __future__ import annotations

__all__ = ["Camera"]

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """Forward-looking pinhole camera, optical axis parallel to the ground.

    World coordinates in metres: ``X`` to the right, ``Y`` up from the ground, ``Z`` forward (depth).
    Image coordinates in pixels: ``x`` right, ``y`` down, pixel ``(i, j)`` centred at ``(j + .5, i + .5)``.

    :param horizon: Image row of the horizon (vanishing line), pixels.
    :param center: Image column of the vanishing point, pixels.
    :param focal: Focal length, pixels.
    :param elevation: Camera height above the ground, metres.
    """

    horizon: float
    center: float
    focal: float
    elevation: float

    def project(
        self, x: np.ndarray | float, y: np.ndarray | float, z: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Image position of world points ``(X, Y, Z)`` (``Z > 0``); returns pixel ``(x, y)`` arrays."""
        z = np.asarray(z, dtype=np.float64)
        u = self.center + self.focal * np.asarray(x, dtype=np.float64) / z
        v = self.horizon + self.focal * (self.elevation - np.asarray(y, dtype=np.float64)) / z
        return u, v

    def point(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Image position ``(x, y)`` of one world point, with the arithmetic of :meth:`project`."""
        return (
            self.center + self.focal * x / z,
            self.horizon + self.focal * (self.elevation - y) / z,
        )

    def scale(self, z: float) -> float:
        """Pixels per metre of a frontal object at depth ``z`` metres."""
        return self.focal / z

    def ground_row(self, z: float) -> float:
        """Image row (pixels) of the ground at depth ``z`` metres."""
        return self.horizon + self.focal * self.elevation / z

    def ground(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground-plane point seen by each pixel below the horizon.

        :param rows: [R] int pixel rows, all below the horizon.
        :param cols: [C] int pixel columns.
        :return: ``(X, Z)``: [R, C] float32 lateral offset and [R, 1] float32 depth, metres.
        """
        dy = (rows.astype(np.float32) + 0.5 - np.float32(self.horizon))[:, None]
        z = np.float32(self.focal * self.elevation) / dy
        x = (cols.astype(np.float32) + 0.5 - np.float32(self.center))[None, :] * (
            np.float32(self.elevation) / dy
        )
        return x, z
