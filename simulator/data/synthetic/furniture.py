"""Street furniture on the sidewalk: poles, street lights, traffic lights and traffic signs."""

from __future__ import annotations

__all__ = ["FURNITURE", "draw_furniture"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.painter import Painter

POLE, LIGHT, SIGN = (
    CITYSCAPES_CLASSES.index(name) for name in ("pole", "traffic light", "traffic sign")
)
FURNITURE: tuple[str, ...] = ("pole", "streetlight", "traffic_light", "sign")
_METAL = np.array((128, 130, 132), dtype=np.float32)


def _pole(p: Painter, x: float, z: float, height: float, width: float) -> None:
    p.paint(p.box(z, x - width / 2, 0.0, x + width / 2, height), _METAL, POLE, stains=0.1)


def _traffic_light(p: Painter, rng: np.random.Generator, x: float, z: float, y: float) -> None:
    housing = np.array((35, 38, 35), dtype=np.float32)
    p.paint(p.box(z - 0.05, x - 0.17, y, x + 0.17, y + 0.85), housing, LIGHT)
    lit = int(rng.integers(3))
    for k, rgb in enumerate(((60, 230, 90), (250, 190, 30), (240, 40, 30))):
        lamp = np.array(rgb, np.float32) * (1.0 if k == lit else 0.3)
        p.paint(p.ellipse(z - 0.06, x, y + 0.15 + 0.27 * k, 0.09, 0.09), lamp, LIGHT, texture=0.0)


def _sign(p: Painter, rng: np.random.Generator, x: float, z: float, y: float) -> None:
    style = int(rng.integers(4))
    z = z - 0.05
    if style == 0:  # round prohibition sign: red ring, white face
        p.paint(p.ellipse(z, x, y, 0.32, 0.32), np.array((200, 30, 30)), SIGN)
        p.paint(p.ellipse(z, x, y, 0.24, 0.24), np.array((235, 235, 235)), SIGN)
    elif style == 1:  # round blue mandatory sign
        p.paint(p.ellipse(z, x, y, 0.3, 0.3), np.array((30, 70, 170)), SIGN)
        p.paint(
            p.line("frontal", z, x - 0.12, y - 0.1, x + 0.12, y + 0.1, 0.06),
            np.array((240, 240, 240)),
            SIGN,
        )
    elif style == 2:  # warning triangle
        xs, ys = np.array([x - 0.36, x + 0.36, x]), np.array([y - 0.25, y - 0.25, y + 0.38])
        p.paint(p.frontal(z, xs, ys), np.array((200, 30, 30)), SIGN)
        p.paint(
            p.frontal(z, x + (xs - x) * 0.7, y + 0.02 + (ys - y) * 0.7),
            np.array((235, 235, 225)),
            SIGN,
        )
    else:  # rectangular direction / information sign
        w = float(rng.uniform(0.4, 1.2))
        p.paint(
            p.box(z, x - w / 2, y - 0.3, x + w / 2, y + 0.3),
            np.array((30, 90, 160) if rng.random() < 0.5 else (235, 200, 30)),
            SIGN,
        )


def draw_furniture(
    p: Painter, rng: np.random.Generator, kind: str, x: float, z: float, toward: float
) -> None:
    """Draw a piece of street furniture (a name of :data:`FURNITURE`) standing at ``(x, z)``.

    :param toward: +1 or -1: the direction (in ``X``) of the road, where arms and heads overhang.
    """
    if kind == "pole":
        _pole(p, x, z, float(rng.uniform(2.5, 4.0)), 0.12)
    elif kind == "streetlight":
        h = float(rng.uniform(6.0, 9.0))
        _pole(p, x, z, h, 0.2)
        reach = float(rng.uniform(1.0, 2.5))
        p.paint(p.line("frontal", z, x, h - 0.1, x + toward * reach, h + 0.2, 0.1), _METAL, POLE)
        p.paint(
            p.box(z, x + toward * reach - 0.35, h - 0.05, x + toward * reach + 0.35, h + 0.25),
            _METAL * 0.8,
            POLE,
        )
    elif kind == "traffic_light":
        h = float(rng.uniform(3.0, 4.5))
        _pole(p, x, z, h, 0.16)
        _traffic_light(p, rng, x, z, h - 0.9)
        if rng.random() < 0.5:  # mast arm with a second head over the road
            reach = float(rng.uniform(3.0, 6.0))
            p.paint(
                p.line("frontal", z, x, h + 1.5, x + toward * reach, h + 1.5, 0.14), _METAL, POLE
            )
            _pole(p, x, z, h + 1.6, 0.16)
            _traffic_light(p, rng, x + toward * reach, z, h + 0.6)
    else:
        h = float(rng.uniform(2.2, 3.0))
        _pole(p, x, z, h, 0.08)
        _sign(p, rng, x, z, h)
