"""Pedestrians, and riders on bicycles or motorcycles (flat figures on a frontal or side plane)."""

from __future__ import annotations

__all__ = ["draw_cycle", "draw_person"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.painter import Painter
from simulator.data.synthetic.vehicles import DETAIL_PX

PERSON, RIDER, MOTORCYCLE, BICYCLE = (
    CITYSCAPES_CLASSES.index(name) for name in ("person", "rider", "motorcycle", "bicycle")
)
_SKIN = np.array([(230, 190, 160), (190, 140, 100), (120, 80, 55), (240, 205, 180)], np.float32)
_CLOTHES = np.array(
    [(40, 40, 50), (60, 70, 120), (150, 30, 40), (200, 200, 200), (90, 80, 60), (30, 90, 60)],
    np.float32,
)


def _pick(rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    return palette[rng.integers(len(palette))] * np.float32(rng.uniform(0.85, 1.15))


def draw_person(
    p: Painter, rng: np.random.Generator, x: float, z: float, label: int = PERSON
) -> None:
    """A standing or walking person, feet at ``(x, 0, z)``, facing or turned away from the camera."""
    h = float(rng.uniform(1.55, 1.92))
    stride = float(rng.uniform(0.0, 0.18))
    legs, top, skin = _pick(rng, _CLOTHES), _pick(rng, _CLOTHES), _pick(rng, _SKIN)
    hip, shoulder = 0.52 * h, 0.82 * h
    if p.camera.scale(z) * h < DETAIL_PX:  # a few pixels tall: a clothed silhouette
        p.paint(p.box(z, x - 0.18, 0.0, x + 0.18, shoulder), top, label)
        p.paint(p.ellipse(z, x, 0.92 * h, 0.095, 0.12), skin, label)
        return
    for side in (-1, 1):
        p.paint(
            p.line("frontal", z, x + 0.09 * side, hip, x + (0.1 + stride) * side, 0.04, 0.15),
            legs,
            label,
        )
        p.paint(
            p.line("frontal", z, x + 0.2 * side, shoulder, x + 0.26 * side, hip - 0.02, 0.1),
            top * 0.9,
            label,
        )
    torso = np.array([x - 0.21, x + 0.21, x + 0.17, x - 0.17])
    p.paint(p.frontal(z, torso, np.array([shoulder, shoulder, hip - 0.05, hip - 0.05])), top, label)
    p.paint(p.ellipse(z, x, 0.92 * h, 0.095, 0.12), skin, label)
    if rng.random() < 0.5:  # hair or a hat
        p.paint(p.ellipse(z, x, 0.96 * h, 0.1, 0.07), _pick(rng, _CLOTHES) * 0.6, label)


def draw_cycle(
    p: Painter, rng: np.random.Generator, plane: str, at: float, u: float, motor: bool, rider: bool
) -> None:
    """A bicycle or motorcycle in side view, optionally ridden.

    :param plane: ``"frontal"`` (crossing the road at depth ``at``, rear wheel at ``X = u``) or
        ``"side"`` (along the road on ``X = at``, rear wheel at depth ``u``).
    :param motor: Motorcycle instead of bicycle.
    :param rider: Draw a rider (label ``rider``) on it.
    """
    label = MOTORCYCLE if motor else BICYCLE
    direction = 1.0 if rng.random() < 0.5 or plane == "side" else -1.0
    base = 1.3 if motor else 1.05
    r = 0.31 if motor else 0.34
    frame = _pick(rng, _CLOTHES) * 1.2

    def at_u(k: float) -> float:
        return u + direction * k

    for k in (0.0, base):
        p.paint(
            p.disc(plane, at, at_u(k), r, r, inner=0.55 if motor else 0.82),
            np.array((30, 30, 30)),
            label,
        )
    hub, bb, seat, head = (0.0, r), (0.45 * base, r), (0.36 * base, 0.85), (0.92 * base, 0.9)
    if motor:  # body and seat
        for us, ys, rgb in (
            ((0.2, 1.0, 1.05, 0.3), (0.35, 0.35, 0.85, 0.8), frame),
            ((0.1, 0.6, 0.6, 0.1), (0.78, 0.78, 0.9, 0.9), np.array((25, 25, 25))),
        ):
            p.paint(
                p.on_plane(plane, at, np.array([at_u(k) for k in us]), np.array(ys)), rgb, label
            )
    else:
        for a, b in ((hub, bb), (bb, seat), (seat, head), (bb, head), (hub, seat)):
            p.paint(p.line(plane, at, at_u(a[0]), a[1], at_u(b[0]), b[1], 0.05), frame, label)
    p.paint(p.line(plane, at, at_u(head[0]), head[1], at_u(base), r, 0.05), frame, label)
    p.paint(
        p.line(plane, at, at_u(head[0] - 0.1), 1.05, at_u(head[0] + 0.05), 1.05, 0.06),
        np.array((40, 40, 40)),
        label,
    )
    if not rider:
        return
    clothes, skin = _pick(rng, _CLOTHES), _pick(rng, _SKIN)
    hip = (seat[0], 0.92)
    shoulder = (seat[0] + 0.3 * base, 1.48 if not motor else 1.4)
    p.paint(
        p.line(plane, at, at_u(hip[0]), hip[1], at_u(bb[0] + 0.1), 0.45, 0.14), clothes * 0.7, RIDER
    )
    p.paint(
        p.line(plane, at, at_u(hip[0]), hip[1], at_u(shoulder[0]), shoulder[1], 0.34),
        clothes,
        RIDER,
    )
    p.paint(
        p.line(plane, at, at_u(shoulder[0]), shoulder[1] - 0.05, at_u(head[0]), 1.05, 0.09),
        clothes,
        RIDER,
    )
    head_c = p.disc(plane, at, at_u(shoulder[0] + 0.06), shoulder[1] + 0.2, 0.12)
    p.paint(head_c, skin if not motor else np.array((20, 20, 30)), RIDER)
