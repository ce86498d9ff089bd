"""Vertical surfaces along the street: building facades with windows, walls, fences, hedges."""

from __future__ import annotations

__all__ = ["paint_street_end", "paint_street_side"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.canvas import Canvas, Region
from simulator.data.synthetic.ground import fog
from simulator.data.synthetic.layout import WALL_KINDS, FacadeSegment, StreetLayout
from simulator.data.synthetic.textures import frac

BUILDING, GAP, WALL, FENCE, HEDGE = range(len(WALL_KINDS))
_LABEL = np.array(
    [CITYSCAPES_CLASSES.index(name) for name in ("building", "sky", "wall", "fence", "vegetation")],
    dtype=np.uint8,
)  # per kind (a gap is never painted)
_GRAIN = np.array([0.05, 0.0, 0.08, 0.05, 0.45], dtype=np.float32)  # per kind
_GLASS = np.array((45, 55, 68), dtype=np.float32)


def _paint_surface(
    canvas: Canvas,
    layout: StreetLayout,
    region: Region,
    along: np.ndarray,
    y: np.ndarray,
    haze: np.ndarray,
    seg: dict[str, np.ndarray],
    light: float,
) -> None:
    """Colour and label the pixels of ``region`` (box ``[h, w]``) lying on a facade plane.

    Every argument broadcasts to ``[h, w]`` (per-column values as [1, w], per-row as [h, 1]).

    :param along: Position along the plane (depth for a side plane, ``X`` for a frontal one), metres.
    :param y: Height above the ground, metres.
    :param haze: Fraction (0..1) of the colour replaced by the horizon sky (distance haze).
    :param seg: Segment attributes: ``kind`` (index into ``WALL_KINDS``), ``height``, ``bay`` and
        ``storey`` (metres), ``color`` (RGB 0..255, trailing axis 3).
    :param light: Brightness of the surface's side (sun / shade).
    """
    kind, height = seg["kind"], seg["height"]
    sky = layout.sky_horizon[:, None, None]
    color = np.asarray(seg["color"], np.float32)
    color = np.moveaxis(color if color.ndim > 1 else color[None, None], -1, 0)  # [3, ., .]
    if np.any(kind == BUILDING):
        color = _glaze(color, along, y, seg, sky)
    ambient = (0.78 + 0.22 * np.clip(y * np.float32(0.25), 0, 1)) * np.float32(light)
    # float64 from here on; the coping of a wall catches more light
    if np.any(kind == WALL):
        ambient = ambient * np.where((kind == WALL) & (y > height - 0.12), 1.2, 1.0)
    else:
        ambient = ambient.astype(np.float64)
    shade = ambient * canvas.gain(region, _GRAIN[kind], 0.12)
    shape = region.mask.shape
    canvas.paint(region, _hazy(color, shade, sky, haze), np.broadcast_to(_LABEL[kind], shape))


def _glaze(
    color: np.ndarray, along: np.ndarray, y: np.ndarray, seg: dict[str, np.ndarray], sky: np.ndarray
) -> np.ndarray:
    """``color`` ([3, ., .]) with building windows and shop fronts replaced by glass, which mirrors
    more of the ``sky`` higher up; arguments as in :func:`_paint_surface`; returns [3, h, w]."""
    kind, height = seg["kind"], seg["height"]
    u = frac(along / seg["bay"])
    v = frac(y / seg["storey"])
    windows = (u > 0.28) & (u < 0.72) & (v > 0.3) & (v < 0.78) & (y > 3.6) & (y < height - 0.8)
    shop_bay = frac(along / (2.0 * seg["bay"])) < 0.7
    glass = (kind == BUILDING) & (windows | (shop_bay & (y > 0.3) & (y < 2.7)))
    opaque = ~glass
    reflect = np.clip(y / np.maximum(height, 1.0), 0, 1) * np.float32(0.45)
    glazed = np.empty((3, *glass.shape), dtype=np.float32)
    for ch, out in enumerate(glazed):  # color + (glazing - color) on glass, color elsewhere
        np.multiply(sky[ch] - _GLASS[ch], reflect, out=out)
        out += _GLASS[ch]
        out -= color[ch]
        out += color[ch]
        np.copyto(out, color[ch], where=opaque)
    return glazed


def _hazy(color: np.ndarray, shade: np.ndarray, sky: np.ndarray, haze: np.ndarray) -> np.ndarray:
    """[3, h, w] float32 ``color * shade``, a fraction ``haze`` of the way to ``sky``.

    Computed in float64 one channel at a time (two [h, w] buffers instead of [3, h, w] temporaries).
    """
    lit, hazy = np.empty(shade.shape), np.empty(shade.shape)
    out = np.empty((3, *shade.shape), dtype=np.float32)
    for ch in range(3):
        np.multiply(color[ch], shade, out=lit)
        np.subtract(sky[ch], lit, out=hazy)
        hazy *= haze
        hazy += lit
        out[ch] = hazy
    return out


def _segment_table(segments: tuple[FacadeSegment, ...]) -> dict[str, np.ndarray]:
    return {
        "z0": np.array([s.z0 for s in segments]),
        "z1": np.array([s.z1 for s in segments]),
        "kind": np.array([WALL_KINDS.index(s.kind) for s in segments]),
        "height": np.array([s.height for s in segments], dtype=np.float32),
        "bay": np.array([s.bay for s in segments], dtype=np.float32),
        "storey": np.array([s.storey for s in segments], dtype=np.float32),
        "color": np.array([s.color for s in segments], dtype=np.float32),
    }


def paint_street_side(
    canvas: Canvas,
    layout: StreetLayout,
    side: int,
    plane_x: float,
    segments: tuple[FacadeSegment, ...],
) -> None:
    """Paint the segments standing on the plane ``X = plane_x`` on ``side`` (0 left, 1 right).

    Each image column of that side sees the plane at one depth ``Z = focal * X / (x - cx)``; the
    segment at that depth fixes the column's top and bottom rows, its class and its pattern.
    Open segments (``gap``) and the holes of fence meshes leave what is behind visible.
    """
    cam = layout.camera
    xc = np.arange(canvas.width, dtype=np.float64) + 0.5
    cols = np.nonzero((xc < cam.center - 0.5) if side == 0 else (xc > cam.center + 0.5))[0]
    if cols.size == 0:
        return
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    z = cam.focal * plane_x / (xc[c0:c1] - cam.center)
    table = _segment_table(segments)
    index = np.clip(np.searchsorted(table["z0"], z, side="right") - 1, 0, len(segments) - 1)
    seg = {name: table[name][index] for name in ("kind", "height", "bay", "storey", "color")}
    visible = (z > 0.3) & (z < min(layout.street_end, table["z1"][-1])) & (seg["kind"] != GAP)
    if not visible.any():
        return
    z = np.where(visible, z, 1.0)
    top = cam.horizon + cam.focal * (cam.elevation - seg["height"]) / z
    bottom = np.where(visible, cam.horizon + cam.focal * cam.elevation / z, -1.0)
    r0 = int(np.clip(np.floor(top[visible].min()), 0, canvas.height))
    r1 = int(np.clip(np.ceil(bottom[visible].max()), 0, canvas.height))
    if r1 <= r0:
        return
    yc = np.arange(r0, r1, dtype=np.float32)[:, None] + np.float32(0.5)
    mask = (yc >= top.astype(np.float32)) & (yc < bottom.astype(np.float32))
    y = np.float32(cam.elevation) - (yc - np.float32(cam.horizon)) * (z / cam.focal).astype(
        np.float32
    )
    kind, height = seg["kind"], seg["height"]
    if np.any(kind == FENCE):  # a mesh of bars and rails: the holes show what is behind
        bars = (frac(z / seg["bay"]) < 0.35) | (y > height - 0.1)
        bars |= np.abs(y - 0.3 * height) < 0.05
        mask &= (kind != FENCE) | bars
    if np.any(kind == HEDGE):  # ragged top
        ragged = y > height - 0.35 * (1 + canvas.grain[r0:r1, c0:c1])
        mask &= (kind != HEDGE) | ~ragged
    if not mask.any():
        return
    seg = {name: v[None] for name, v in seg.items()}
    haze = fog(z.astype(np.float32))[None]
    region = Region(r0, c0, mask)
    _paint_surface(
        canvas, layout, region, z[None].astype(np.float32), y, haze, seg, layout.light[side]
    )


def paint_street_end(canvas: Canvas, layout: StreetLayout) -> None:
    """The building closing the street at depth ``street_end`` (none for an open street)."""
    if layout.street_end >= 1e4:
        return
    cam, z = layout.camera, layout.street_end
    x0, x1 = layout.facade_x(0) - 6.0, layout.facade_x(1) + 6.0
    (u0, u1), (v0, v1) = cam.project(np.array([x0, x1]), np.array([layout.end_height, 0.0]), z)
    r0, r1 = (
        int(np.clip(np.round(v0), 0, canvas.height)),
        int(np.clip(np.round(v1), 0, canvas.height)),
    )
    c0, c1 = (
        int(np.clip(np.round(u0), 0, canvas.width)),
        int(np.clip(np.round(u1), 0, canvas.width)),
    )
    if r1 <= r0 or c1 <= c0:
        return
    yc = np.arange(r0, r1, dtype=np.float32)[:, None] + np.float32(0.5)
    xc = np.arange(c0, c1, dtype=np.float32)[None, :] + np.float32(0.5)
    y = np.float32(cam.elevation) - (yc - np.float32(cam.horizon)) * np.float32(z / cam.focal)
    along = (xc - np.float32(cam.center)) * np.float32(z / cam.focal)
    seg = {
        "kind": np.array(BUILDING),
        "height": np.float32(layout.end_height),
        "bay": np.float32(3.0),
        "storey": np.float32(3.2),
        "color": layout.end_color,
    }
    light = 0.5 * (layout.light[0] + layout.light[1])
    region = Region(r0, c0, np.ones((r1 - r0, c1 - c0), dtype=bool))
    haze = fog(np.float32(z))
    _paint_surface(canvas, layout, region, along, y, haze, seg, light)
