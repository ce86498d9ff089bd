"""The sky and the ground plane: road with lane markings, sidewalks with curbs, grass verges."""

from __future__ import annotations

__all__ = ["fog", "paint_ground", "paint_sky", "sky_rows"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.canvas import Canvas, Region
from simulator.data.synthetic.layout import StreetLayout
from simulator.data.synthetic.textures import frac, fractal_noise

ROAD, SIDEWALK, TERRAIN, SKY = (
    CITYSCAPES_CLASSES.index(name) for name in ("road", "sidewalk", "terrain", "sky")
)
FOG_DISTANCE = 350.0  # metres: distance at which 63 % of a surface's colour is haze


def sky_rows(layout: StreetLayout, height: int) -> int:
    """Number of image rows whose pixel centre lies on or above the horizon."""
    return int(np.clip(np.floor(layout.camera.horizon - 0.5) + 1, 0, height))


def fog(depth: np.ndarray) -> np.ndarray:
    """Fraction (0..1, float32) of a surface's colour replaced by haze at ``depth`` metres."""
    return (1.0 - np.exp(-np.asarray(depth, dtype=np.float32) / np.float32(FOG_DISTANCE))).astype(
        np.float32
    )


def paint_sky(canvas: Canvas, layout: StreetLayout, rng: np.random.Generator) -> None:
    """Sky above the horizon: a vertical gradient with fractal clouds (all labelled ``sky``)."""
    rows = sky_rows(layout, canvas.height)
    if rows == 0:
        return
    t = np.clip((np.arange(rows, dtype=np.float32) + 0.5) / max(layout.camera.horizon, 1.0), 0, 1)
    t = (t**1.5)[None, :, None]
    color = layout.sky_top[:, None, None] * (1 - t) + layout.sky_horizon[:, None, None] * t
    clouds = fractal_noise(rng, rows, canvas.width, cells=2.5, octaves=5, persistence=0.55)
    threshold = 0.55 - 0.7 * layout.cloudiness
    alpha = np.clip((clouds - threshold) * np.float32(1 / 0.3), 0.0, 0.95)
    white = 235.0 - 50.0 * np.clip(clouds - threshold, 0, 1)
    color = color + (white - color) * alpha
    canvas.paint(Region(0, 0, np.ones((rows, canvas.width), dtype=bool)), color, SKY)


_GROUND_COLORS = {
    ROAD: ((92, 90, 92), 0.10, 0.12),
    SIDEWALK: ((165, 158, 150), 0.08, 0.10),
    TERRAIN: ((96, 118, 58), 0.30, 0.25),
}  # class -> (RGB, grain amplitude, stain amplitude)
_PAINT = np.array((215, 215, 205), dtype=np.float32)
_CURB = np.array((190, 188, 182), dtype=np.float32)


def _markings(layout: StreetLayout, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """[R, W] bool: painted lines on the road (dashed lane dividers, edge lines, crosswalk)."""
    lane = (layout.road_right - layout.road_left) / layout.lanes
    half = 0.07
    marks = np.abs(x - (layout.road_left + 0.35)) < half
    marks |= np.abs(x - (layout.road_right - 0.35)) < half
    dashed = frac(z * np.float32(1 / 9.0)) < 0.39
    for k in range(1, layout.lanes):
        marks |= (np.abs(x - (layout.road_left + k * lane)) < half) & dashed
    if layout.crosswalk is not None:
        zebra = (z > layout.crosswalk) & (z < layout.crosswalk + 3.5)
        marks |= zebra & (frac(x - layout.road_left) < 0.5)
    return marks


def paint_ground(canvas: Canvas, layout: StreetLayout) -> None:
    """Everything below the horizon: road, curbs and sidewalks, then grass (labels by lateral offset)."""
    top = sky_rows(layout, canvas.height)
    if top >= canvas.height:
        return
    x, z = layout.camera.ground(np.arange(top, canvas.height), np.arange(canvas.width))
    road = (x >= layout.road_left) & (x <= layout.road_right)
    walk = (x >= layout.sidewalk_edge(0)) & (x <= layout.sidewalk_edge(1)) & ~road
    labels = np.where(road, ROAD, np.where(walk, SIDEWALK, TERRAIN)).astype(np.uint8)

    base = np.zeros((3, 256), dtype=np.float32)
    grain, stains = np.zeros(256, np.float32), np.zeros(256, np.float32)
    for cls, (rgb, g, s) in _GROUND_COLORS.items():
        base[:, cls], grain[cls], stains[cls] = rgb, g, s
    color = base[:, labels]
    lines = road & _markings(layout, x, z)
    color += (_PAINT[:, None, None] - color) * lines
    curb = walk & ((np.abs(x - layout.road_left) < 0.25) | (np.abs(x - layout.road_right) < 0.25))
    color += (_CURB[:, None, None] - color) * curb
    tiles = (
        walk
        & ~curb
        & ((frac(z * np.float32(1 / 0.6)) < 0.08) | (frac(x * np.float32(1 / 0.6)) < 0.08))
    )
    color *= 1.0 - 0.18 * tiles
    region = Region(top, 0, np.ones(x.shape, dtype=bool))
    color *= canvas.gain(region, grain[labels], stains[labels])
    color += (layout.sky_horizon[:, None, None] - color) * fog(z)
    canvas.paint(region, color, labels)
