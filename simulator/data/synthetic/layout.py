"""The random street layout of one scene: camera pose, road cross-section, facades, light."""

from __future__ import annotations

__all__ = ["FacadeSegment", "StreetLayout", "sample_layout"]

from dataclasses import dataclass

import numpy as np

from simulator.data.synthetic.camera import Camera
from simulator.data.synthetic.categorical import Categorical

WALL_KINDS: tuple[str, ...] = ("building", "gap", "wall", "fence", "hedge")


@dataclass(frozen=True)
class FacadeSegment:
    """A stretch ``[z0, z1)`` metres of one side of the street, standing on a plane ``X = const``.

    :param kind: ``building``, ``gap`` (open: nothing stands there), ``wall``, ``fence`` or ``hedge``.
    :param z0: Near end (depth, metres).
    :param z1: Far end (depth, metres).
    :param height: Height, metres.
    :param color: [3] RGB in 0..255.
    :param bay: Horizontal window pitch, metres (buildings).
    :param storey: Storey height, metres (buildings).
    """

    kind: str
    z0: float
    z1: float
    height: float
    color: np.ndarray
    bay: float = 3.0
    storey: float = 3.0


@dataclass(frozen=True)
class StreetLayout:
    """Geometry and light of one street scene (metres unless stated).

    Lateral positions are ``X`` offsets from the camera: the road spans ``[road_left, road_right]``,
    sidewalks of ``sidewalk`` widths lie outside it, then grass verges of ``verge`` widths, then the
    facades (``facades``: far plane) and the low walls / fences / hedges at the sidewalk's outer edge
    (``fences``: near plane). Index 0 of each pair is the left side, 1 the right side.
    """

    camera: Camera
    road_left: float
    road_right: float
    lanes: int
    sidewalk: tuple[float, float]
    verge: tuple[float, float]
    facades: tuple[tuple[FacadeSegment, ...], tuple[FacadeSegment, ...]]
    fences: tuple[tuple[FacadeSegment, ...], tuple[FacadeSegment, ...]]
    street_end: float
    end_height: float
    end_color: np.ndarray
    crosswalk: float | None
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    cloudiness: float
    light: tuple[float, float]
    exposure: float

    def sidewalk_edge(self, side: int) -> float:
        """``X`` of the outer edge of the sidewalk on ``side`` (0 left, 1 right)."""
        return (
            self.road_left - self.sidewalk[0] if side == 0 else self.road_right + self.sidewalk[1]
        )

    def facade_x(self, side: int) -> float:
        """``X`` of the facade plane on ``side``."""
        edge = self.sidewalk_edge(side)
        return edge - self.verge[0] if side == 0 else edge + self.verge[1]


_FACADE_COLORS = np.array(
    [
        (196, 184, 160),
        (168, 160, 150),
        (150, 92, 70),
        (210, 205, 195),
        (190, 160, 110),
        (120, 120, 125),
        (175, 130, 100),
        (215, 190, 150),
    ],
    dtype=np.float32,
)


def _jitter(rng: np.random.Generator, color: np.ndarray, amount: float = 18.0) -> np.ndarray:
    jittered = color + rng.normal(0.0, amount, 3)
    return np.minimum(np.maximum(jittered, 0), 255).astype(
        np.float32
    )  # np.clip, minus its overhead


def _buildings(rng: np.random.Generator, end: float) -> tuple[FacadeSegment, ...]:
    segments, z = [], 0.5
    while z < end:
        length = float(rng.uniform(8.0, 35.0))
        kind = "gap" if rng.random() < 0.12 and z > 10 else "building"
        color = _jitter(rng, _FACADE_COLORS[rng.integers(len(_FACADE_COLORS))])
        segments.append(
            FacadeSegment(
                kind,
                z,
                z + length,
                float(rng.uniform(6.0, 32.0)),
                color,
                bay=float(rng.uniform(2.2, 4.0)),
                storey=float(rng.uniform(2.8, 3.6)),
            )
        )
        z += length
    return tuple(segments)


_FENCE_KINDS = Categorical(("gap", "wall", "fence", "hedge"), (0.35, 0.25, 0.25, 0.15))
_FENCE_COLORS = {
    kind: np.array(rgb, dtype=np.float32)
    for kind, rgb in (("wall", (150, 148, 140)), ("fence", (95, 100, 95)), ("hedge", (60, 95, 40)))
}
_FENCE_HEIGHTS = {"wall": (0.8, 2.6), "fence": (0.9, 2.0), "hedge": (0.8, 1.9)}
_NO_FENCE = np.zeros(3, dtype=np.float32)


def _fences(rng: np.random.Generator, end: float) -> tuple[FacadeSegment, ...]:
    segments, z = [], 0.5
    while z < end:
        length = float(rng.uniform(4.0, 25.0))
        kind = _FENCE_KINDS.draw(rng)
        segments.append(
            FacadeSegment(
                kind,
                z,
                z + length,
                float(rng.uniform(*_FENCE_HEIGHTS.get(kind, (0, 0)))),
                _jitter(rng, _FENCE_COLORS.get(kind, _NO_FENCE), 14.0),
                bay=float(rng.uniform(0.15, 0.35)),
            )
        )
        z += length
    return tuple(segments)


def sample_layout(rng: np.random.Generator, height: int, width: int) -> StreetLayout:
    """Draw a random street layout for a ``height x width`` image.

    The horizon, vanishing point and focal length are drawn relative to the image size, so every
    resolution shows the same kind of scene.
    """
    camera = Camera(
        horizon=float(rng.uniform(0.36, 0.5)) * height,
        center=float(rng.uniform(0.35, 0.65)) * width,
        focal=float(rng.uniform(0.6, 0.9)) * width,
        elevation=float(rng.uniform(1.3, 1.8)),
    )
    lanes = int(rng.integers(2, 5))
    lane_width = float(rng.uniform(3.0, 3.7))
    own_lane = int(rng.integers(0, lanes))
    road_left = -(own_lane + float(rng.uniform(0.3, 0.7))) * lane_width
    open_end = rng.random() < 0.4
    street_end = 1e4 if open_end else float(rng.uniform(70.0, 250.0))
    overcast = rng.random() < 0.35
    sky_top = np.array((150, 160, 172) if overcast else (70, 125, 200), dtype=np.float32)
    sky_horizon = np.array((200, 204, 210) if overcast else (185, 210, 235), dtype=np.float32)
    sun = float(rng.uniform(0.15, 0.35)) * (0.3 if overcast else 1.0)
    side = rng.choice([-1.0, 1.0])
    reach = min(street_end, 400.0)
    return StreetLayout(
        camera=camera,
        road_left=road_left,
        road_right=road_left + lanes * lane_width,
        lanes=lanes,
        sidewalk=(float(rng.uniform(1.5, 4.5)), float(rng.uniform(1.5, 4.5))),
        verge=tuple(float(rng.uniform(1.0, 5.0)) if rng.random() < 0.45 else 0.0 for _ in "lr"),
        facades=(_buildings(rng, reach), _buildings(rng, reach)),
        fences=(_fences(rng, reach), _fences(rng, reach)),
        street_end=street_end,
        end_height=float(rng.uniform(8.0, 40.0)),
        end_color=_jitter(rng, _FACADE_COLORS[rng.integers(len(_FACADE_COLORS))]),
        crosswalk=float(rng.uniform(8.0, 30.0)) if rng.random() < 0.3 else None,
        sky_top=_jitter(rng, sky_top, 10.0),
        sky_horizon=_jitter(rng, sky_horizon, 8.0),
        cloudiness=float(rng.uniform(0.0, 0.9)),
        light=(1.0 + sun * side, 1.0 - sun * side),
        exposure=float(rng.uniform(0.85, 1.1)),
    )
