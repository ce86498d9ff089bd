"""Road vehicles as textured boxes seen from behind (or the front) and, off-axis, from the side."""

from __future__ import annotations

__all__ = ["VEHICLES", "VehicleShape", "draw_vehicle"]

from dataclasses import dataclass

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.painter import Painter


@dataclass(frozen=True)
class VehicleShape:
    """Dimensions in metres and the trainId of a vehicle type.

    :param width: Across the road.
    :param height: Roof height above the ground.
    :param length: Along the road.
    :param cabin: Fraction of ``height`` where the glass house starts (cars) or 1 for a plain box.
    :param label: trainId.
    """

    width: float
    height: float
    length: float
    cabin: float
    label: int


VEHICLES: dict[str, VehicleShape] = {
    "car": VehicleShape(1.8, 1.5, 4.4, 0.6, CITYSCAPES_CLASSES.index("car")),
    "truck": VehicleShape(2.45, 3.4, 7.5, 1.0, CITYSCAPES_CLASSES.index("truck")),
    "bus": VehicleShape(2.55, 3.2, 12.0, 1.0, CITYSCAPES_CLASSES.index("bus")),
    "train": VehicleShape(2.65, 3.5, 28.0, 1.0, CITYSCAPES_CLASSES.index("train")),
}

_PAINTS = np.array(
    [
        (200, 200, 205),
        (30, 30, 35),
        (120, 122, 128),
        (150, 25, 30),
        (30, 60, 130),
        (235, 235, 230),
        (70, 90, 70),
        (180, 150, 60),
    ],
    dtype=np.float32,
)
_GLASS = np.array((35, 42, 52), dtype=np.float32)
DETAIL_PX = 14.0
"""Vehicles shorter than this on screen (pixels) are drawn without side, lights, plate and tyres."""
_TYRE = np.array((25, 25, 25), dtype=np.float32)


def _side(p: Painter, x: float, z: float, shape: VehicleShape, body: np.ndarray) -> None:
    """The side facing the camera axis, on the plane ``X = x`` from depth ``z`` to ``z + length``."""
    h, length, lab = shape.height, shape.length, shape.label
    top = h * shape.cabin
    p.paint(
        p.side(x, np.array([z, z + length, z + length, z]), np.array([0.25, 0.25, top, top])),
        body * 0.85,
        lab,
    )
    if shape.cabin < 1.0:
        zs = np.array([z + 0.9, z + length - 1.3, z + length - 2.0, z + 1.3])
        ys = np.array([top, top, h, h])
        p.paint(p.side(x, zs, ys), body * 0.8, lab)
        inset = np.array([0.15, -0.15, -0.15, 0.15])
        p.paint(
            p.side(x, zs + inset, np.array([top + 0.05, top + 0.05, h - 0.08, h - 0.08])),
            _GLASS,
            lab,
        )
    else:
        band = (h * 0.55, h * 0.85) if lab != VEHICLES["truck"].label else (h * 0.7, h * 0.85)
        z0 = z + (0.3 if lab != VEHICLES["truck"].label else length - 2.2)
        ys = np.array([band[0], band[0], band[1], band[1]])
        p.paint(p.side(x, np.array([z0, z + length - 0.3, z + length - 0.3, z0]), ys), _GLASS, lab)
    for wz in (z + 0.85, z + length - 0.85):
        p.paint(p.disc("side", x, wz, 0.34, 0.34), _TYRE, lab, texture=0.0)
        p.paint(p.disc("side", x, wz, 0.34, 0.17), np.array((150, 150, 150)), lab, texture=0.0)


def draw_vehicle(p: Painter, rng: np.random.Generator, kind: str, x: float, z: float) -> None:
    """Draw a vehicle of ``kind`` (a key of :data:`VEHICLES`) centred at ``X = x``, nearest face at ``Z = z``.

    Every pixel of the vehicle (body, glass, tyres, lights) is labelled with the vehicle's trainId; its
    shadow darkens the road without changing the labels.
    """
    shape = VEHICLES[kind]
    w, h, lab = shape.width, shape.height, shape.label
    body = _PAINTS[rng.integers(len(_PAINTS))] * np.float32(rng.uniform(0.85, 1.1))
    if kind == "bus":
        body = np.array((rng.choice([200, 230]), rng.choice([40, 180, 200]), 40), dtype=np.float32)
    left, right = x - w / 2, x + w / 2
    shadow = p.ground(
        np.array([left - 0.2, right + 0.2, right + 0.2, left - 0.2]),
        np.array([z - 0.3, z - 0.3, z + shape.length, z + shape.length]),
    )
    p.canvas.shade(shadow, 0.55)
    detailed = p.camera.scale(z) * h >= DETAIL_PX
    if abs(x) > w / 2 and detailed:
        _side(p, left if x > 0 else right, z, shape, body)
    top = h * shape.cabin
    p.paint(p.box(z, left, 0.25, right, top), body, lab, stains=0.05)
    if shape.cabin < 1.0:
        xs = np.array([left + 0.05, right - 0.05, right - 0.2, left + 0.2])
        p.paint(p.frontal(z + 0.7, xs, np.array([top, top, h, h])), body * 0.9, lab)
        p.paint(
            p.frontal(
                z + 0.7,
                xs * 0.88 + x * 0.12,
                np.array([top + 0.05, top + 0.05, h - 0.06, h - 0.06]),
            ),
            _GLASS,
            lab,
        )
    else:
        p.paint(p.box(z, left + 0.12, h * 0.5, right - 0.12, h * 0.88), _GLASS, lab)
    if not detailed:
        return
    lamp = np.array((210, 30, 25) if rng.random() < 0.8 else (240, 240, 220), dtype=np.float32)
    for lx in (left + 0.08, right - 0.33):
        p.paint(p.box(z - 0.01, lx, 0.75, lx + 0.25, 0.9), lamp, lab, texture=0.0)
    p.paint(p.box(z - 0.01, x - 0.26, 0.4, x + 0.26, 0.52), np.array((225, 225, 215)), lab)
    p.paint(p.box(z - 0.01, left, 0.2, right, 0.38), body * 0.45, lab)
    for wx in (left + 0.05, right - 0.3):
        p.paint(p.box(z + 0.3, wx, 0.0, wx + 0.25, 0.3), _TYRE, lab, texture=0.0)
