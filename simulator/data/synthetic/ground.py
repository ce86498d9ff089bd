"""The sky and the ground plane: road with lane markings, sidewalks with curbs, grass verges."""

from __future__ import annotations

__all__ = ["paint_ground", "paint_sky", "sky_rows"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.canvas import Canvas, Region
from simulator.data.synthetic.layout import StreetLayout
from simulator.data.synthetic.textures import fractal_noise

ROAD, SIDEWALK, TERRAIN, SKY = (
    CITYSCAPES_CLASSES.index(name) for name in ("road", "sidewalk", "terrain", "sky")
)
FOG_DISTANCE = 350.0  # metres: distance at which 63 % of a surface's colour is haze


def sky_rows(layout: StreetLayout, height: int) -> int:
    """Number of image rows whose pixel centre lies on or above the horizon."""
    return int(np.clip(np.floor(layout.camera.horizon - 0.5) + 1, 0, height))


def haze(color: np.ndarray, depth: np.ndarray, layout: StreetLayout) -> np.ndarray:
    """Blend ``color`` [..., 3] toward the horizon sky with distance ``depth`` [...] metres."""
    f = (1.0 - np.exp(-depth / FOG_DISTANCE)).astype(np.float32)[..., None]
    return color * (1.0 - f) + layout.sky_horizon * f


def paint_sky(canvas: Canvas, layout: StreetLayout, rng: np.random.Generator) -> None:
    """Sky above the horizon: a vertical gradient with fractal clouds (all labelled ``sky``)."""
    rows = sky_rows(layout, canvas.height)
    if rows == 0:
        return
    t = np.clip((np.arange(rows, dtype=np.float32) + 0.5) / max(layout.camera.horizon, 1.0), 0, 1)
    t = (t**1.5)[:, None, None]
    color = layout.sky_top * (1 - t) + layout.sky_horizon * t
    clouds = fractal_noise(rng, rows, canvas.width, cells=2.5, octaves=5, persistence=0.55)
    threshold = 0.55 - 0.7 * layout.cloudiness
    alpha = np.clip((clouds - threshold) / 0.3, 0.0, 0.95)[..., None]
    shade = (235.0 - 50.0 * np.clip(clouds - threshold, 0, 1))[..., None]
    color = color * (1 - alpha) + shade * alpha
    region = Region(0, 0, np.ones((rows, canvas.width), dtype=bool))
    canvas.paint(region, color.reshape(-1, 3), SKY)


_GROUND_COLORS = {
    ROAD: ((92, 90, 92), 0.10, 0.12),
    SIDEWALK: ((165, 158, 150), 0.08, 0.10),
    TERRAIN: ((96, 118, 58), 0.30, 0.25),
}  # class -> (RGB, grain amplitude, stain amplitude)


def _markings(layout: StreetLayout, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """[R, W] bool: painted lines on the road (dashed lane dividers, edge lines, crosswalk)."""
    lane = (layout.road_right - layout.road_left) / layout.lanes
    half = 0.07
    marks = np.abs(x - (layout.road_left + 0.35)) < half
    marks |= np.abs(x - (layout.road_right - 0.35)) < half
    dashed = np.mod(z, 9.0) < 3.5
    for k in range(1, layout.lanes):
        marks |= (np.abs(x - (layout.road_left + k * lane)) < half) & dashed
    if layout.crosswalk is not None:
        zebra = (z > layout.crosswalk) & (z < layout.crosswalk + 3.5)
        marks |= zebra & (np.mod(x - layout.road_left, 1.0) < 0.5)
    return marks


def paint_ground(canvas: Canvas, layout: StreetLayout) -> None:
    """Everything below the horizon: road, curbs and sidewalks, then grass (labels by lateral offset)."""
    top = sky_rows(layout, canvas.height)
    if top >= canvas.height:
        return
    x, z = layout.camera.ground(np.arange(top, canvas.height), np.arange(canvas.width))
    z_full = np.broadcast_to(z, x.shape)
    road = (x >= layout.road_left) & (x <= layout.road_right)
    walk = (x >= layout.sidewalk_edge(0)) & (x <= layout.sidewalk_edge(1)) & ~road
    labels = np.where(road, ROAD, np.where(walk, SIDEWALK, TERRAIN)).astype(np.uint8)

    base = np.zeros((256, 3), dtype=np.float32)
    grain, stains = np.zeros(256, np.float32), np.zeros(256, np.float32)
    for cls, (rgb, g, s) in _GROUND_COLORS.items():
        base[cls], grain[cls], stains[cls] = rgb, g, s
    color = base[labels]
    color[road & _markings(layout, x, z_full)] = (215, 215, 205)
    curb = walk & ((np.abs(x - layout.road_left) < 0.25) | (np.abs(x - layout.road_right) < 0.25))
    color[curb] = (190, 188, 182)
    tiles = walk & ~curb & ((np.mod(z_full, 0.6) < 0.05) | (np.mod(x, 0.6) < 0.05))
    color[tiles] *= 0.82
    region = Region(top, 0, np.ones(x.shape, dtype=bool))
    color *= canvas.gain(region, grain[labels].ravel(), stains[labels].ravel()).reshape(x.shape)[
        ..., None
    ]
    color = haze(color, z_full, layout)
    canvas.paint(region, color.reshape(-1, 3), labels.ravel())
