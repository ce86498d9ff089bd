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
    sky = np.empty((3, rows, canvas.width), dtype=np.float32)
    for ch, out in enumerate(sky):  # color + (white - color) * alpha
        np.subtract(white, color[ch], out=out)
        out *= alpha
        out += color[ch]
    canvas.paint(Region.filled(0, 0, rows, canvas.width), sky, SKY)


_GROUND_COLORS = {
    ROAD: ((92, 90, 92), 0.10, 0.12),
    SIDEWALK: ((165, 158, 150), 0.08, 0.10),
    TERRAIN: ((96, 118, 58), 0.30, 0.25),
}  # class -> (RGB, grain amplitude, stain amplitude)
_PAINT = np.array((215, 215, 205), dtype=np.float32)
_CURB = np.array((190, 188, 182), dtype=np.float32)
_JOINT_SHADE = 1.0 - 0.18  # brightness of the joints between sidewalk tiles

ASPHALT, PAVING, GRASS, MARKING, CURB, JOINT = range(6)
"""Ground surfaces: one colour and one class each (markings are road, curbs and joints sidewalk)."""


def _surface_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per surface: [3, 6] float32 RGB, [6] uint8 trainId, [6] float32 grain and stain amplitudes.

    The colours of markings, curbs and tile joints are mixed from the road and sidewalk colours
    in float32 (the joints' shade in float64, then rounded), as a per-pixel blend would.
    """
    labels = np.array([ROAD, SIDEWALK, TERRAIN, ROAD, SIDEWALK, SIDEWALK], dtype=np.uint8)
    rgb = np.array([_GROUND_COLORS[int(k)][0] for k in labels], dtype=np.float32).T
    rgb[:, MARKING] += _PAINT - rgb[:, MARKING]
    rgb[:, CURB] += _CURB - rgb[:, CURB]
    rgb[:, JOINT] = rgb[:, JOINT].astype(np.float64) * _JOINT_SHADE
    grain = np.array([_GROUND_COLORS[int(k)][1] for k in labels], dtype=np.float32)
    stains = np.array([_GROUND_COLORS[int(k)][2] for k in labels], dtype=np.float32)
    return rgb, labels, grain, stains


_SURFACE_RGB, _SURFACE_LABEL, _SURFACE_GRAIN, _SURFACE_STAINS = _surface_table()


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
    index = _surfaces(layout, x, z)
    region = Region.filled(top, 0, *x.shape)
    gain = canvas.gain(region, _SURFACE_GRAIN.take(index), _SURFACE_STAINS.take(index))
    haze, toward_sky = fog(z), np.empty(x.shape, dtype=np.float32)
    color = np.empty((3, *x.shape), dtype=np.float32)
    for ch, out in enumerate(color):  # surface colour * gain, then hazed: += (sky - it) * haze
        np.take(_SURFACE_RGB[ch], index, out=out, mode="clip")
        out *= gain
        np.subtract(layout.sky_horizon[ch], out, out=toward_sky)
        toward_sky *= haze
        out += toward_sky
    canvas.paint(region, color, _SURFACE_LABEL.take(index))


def _surfaces(layout: StreetLayout, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """[R, W] intp surface (``ASPHALT`` ... ``JOINT``) of each ground pixel at lateral offset ``x``
    and depth ``z``: road with markings, sidewalks with curbs and tile joints, grass beyond."""
    road = (x >= layout.road_left) & (x <= layout.road_right)
    walk = (x >= layout.sidewalk_edge(0)) & (x <= layout.sidewalk_edge(1)) & ~road
    curb = walk & ((np.abs(x - layout.road_left) < 0.25) | (np.abs(x - layout.road_right) < 0.25))
    joints = (
        walk
        & ~curb
        & ((frac(z * np.float32(1 / 0.6)) < 0.08) | (frac(x * np.float32(1 / 0.6)) < 0.08))
    )
    surface = np.full(x.shape, GRASS, dtype=np.intp)
    for kind, where in (
        (PAVING, walk),
        (ASPHALT, road),
        (MARKING, road & _markings(layout, x, z)),
        (CURB, curb),
        (JOINT, joints),
    ):
        np.copyto(surface, kind, where=where)
    return surface
