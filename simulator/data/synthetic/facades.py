"""Vertical surfaces along the street: building facades with windows, walls, fences, hedges."""

from __future__ import annotations

__all__ = ["paint_street_end", "paint_street_side"]

import numpy as np

from simulator.data.base import CITYSCAPES_CLASSES
from simulator.data.synthetic.canvas import Canvas, Region
from simulator.data.synthetic.ground import haze
from simulator.data.synthetic.layout import WALL_KINDS, FacadeSegment, StreetLayout

_LABEL = {
    "building": CITYSCAPES_CLASSES.index("building"),
    "wall": CITYSCAPES_CLASSES.index("wall"),
    "fence": CITYSCAPES_CLASSES.index("fence"),
    "hedge": CITYSCAPES_CLASSES.index("vegetation"),
}
_GRAIN = {"building": 0.05, "wall": 0.08, "fence": 0.05, "hedge": 0.45}
_GLASS = np.array((45, 55, 68), dtype=np.float32)


def _windows(
    along: np.ndarray, y: np.ndarray, height: np.ndarray, bay: np.ndarray, storey: np.ndarray
):
    """Window and shop-front masks of a facade from its in-plane coordinates (all metres, broadcast)."""
    u = np.mod(along / bay, 1.0)
    v = np.mod(y / storey, 1.0)
    upper = (y > 3.6) & (y < height - 0.8)
    windows = upper & (u > 0.28) & (u < 0.72) & (v > 0.3) & (v < 0.78)
    shops = (y > 0.3) & (y < 2.7) & (np.mod(along / (2.0 * bay), 1.0) < 0.7)
    return windows, shops


def _paint_facade(
    canvas: Canvas,
    layout: StreetLayout,
    region: Region,
    along: np.ndarray,
    y: np.ndarray,
    depth: np.ndarray,
    seg: dict[str, np.ndarray],
    light: float,
) -> None:
    """Colour and label the pixels of ``region`` from per-pixel facade coordinates.

    :param along: [h, w] position along the facade, metres.
    :param y: [h, w] height above the ground, metres.
    :param depth: [h, w] depth, metres (for haze).
    :param seg: per-pixel segment attributes broadcastable to [h, w]: ``kind`` (index into
        ``WALL_KINDS``), ``height``, ``bay``, ``storey`` and ``color`` ([..., 3]).
    """
    kind, height = seg["kind"], seg["height"]
    mask = region.mask
    shape = mask.shape
    color = np.broadcast_to(seg["color"], (*shape, 3)).astype(np.float32)
    labels = np.zeros(shape, dtype=np.uint8)
    grain = np.zeros(shape, dtype=np.float32)
    for name, cls in _LABEL.items():
        is_kind = np.broadcast_to(kind == WALL_KINDS.index(name), shape)
        labels[is_kind] = cls
        grain[is_kind] = _GRAIN[name]
    building = np.broadcast_to(kind == WALL_KINDS.index("building"), shape)
    windows, shops = _windows(along, y, height, seg["bay"], seg["storey"])
    reflect = np.clip(y / np.maximum(height, 1.0), 0, 1)[..., None] * 0.45
    glass = _GLASS * (1 - reflect) + layout.sky_horizon * reflect
    color = np.where((building & (windows | shops))[..., None], glass, color)
    wall_top = np.broadcast_to(kind == WALL_KINDS.index("wall"), shape) & (y > height - 0.12)
    color = np.where(wall_top[..., None], color * 1.2, color)
    ambient = (0.78 + 0.22 * np.clip(y / 4.0, 0, 1)) * light
    color = color * ambient[..., None]
    color = haze(color, np.broadcast_to(depth, shape), layout)
    n = mask.sum()
    texture = canvas.gain(region, grain[mask], np.full(n, 0.12, np.float32))
    canvas.paint(region, color[mask] * texture[:, None], labels[mask])


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
    Open segments (``gap``) and fence meshes leave what is behind visible.
    """
    cam = layout.camera
    xc = np.arange(canvas.width, dtype=np.float64) + 0.5
    cols = np.nonzero((xc < cam.center - 0.5) if side == 0 else (xc > cam.center + 0.5))[0]
    if cols.size == 0:
        return
    z = cam.focal * plane_x / (xc[cols] - cam.center)
    table = _segment_table(segments)
    index = np.clip(np.searchsorted(table["z0"], z, side="right") - 1, 0, len(segments) - 1)
    kind = table["kind"][index]
    visible = (z > 0.3) & (z < min(layout.street_end, table["z1"][-1])) & (kind != 1)
    if not visible.any():
        return
    cols, z, index = cols[visible], z[visible], index[visible]
    top = cam.horizon + cam.focal * (cam.elevation - table["height"][index]) / z
    bottom = cam.horizon + cam.focal * cam.elevation / z
    r0 = int(np.clip(np.floor(top.min()), 0, canvas.height))
    r1 = int(np.clip(np.ceil(bottom.max()), 0, canvas.height))
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    if r1 <= r0:
        return
    yc = np.arange(r0, r1, dtype=np.float32)[:, None] + np.float32(0.5)
    full = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    zz = np.zeros(c1 - c0)
    zz[cols - c0] = z
    inside = (yc >= top) & (yc < bottom)
    full[:, cols - c0] = inside
    seg = {k: v[index] for k, v in table.items() if k not in ("z0", "z1")}
    seg_full = {k: np.zeros((c1 - c0, *v.shape[1:]), dtype=v.dtype) for k, v in seg.items()}
    for k, v in seg.items():
        seg_full[k][cols - c0] = v
    y = (cam.elevation - (yc - cam.horizon) * zz[None, :] / cam.focal).astype(np.float32)
    along = np.broadcast_to(zz[None, :], y.shape)
    fence = seg_full["kind"] == WALL_KINDS.index("fence")
    bars = (np.mod(along / np.maximum(seg_full["bay"], 0.05), 1.0) < 0.35) | (
        y > seg_full["height"] - 0.1
    )
    bars |= np.abs(y - 0.3 * seg_full["height"]) < 0.05
    full &= ~(fence[None, :] & ~bars)
    hedge = seg_full["kind"] == WALL_KINDS.index("hedge")
    ragged = y > seg_full["height"] - 0.35 * (1 + canvas.grain[r0:r1, c0:c1])
    full &= ~(hedge[None, :] & ragged)
    if not full.any():
        return
    seg_full = {k: (v[None, :, :] if v.ndim == 2 else v[None, :]) for k, v in seg_full.items()}
    _paint_facade(
        canvas, layout, Region(r0, c0, full), along, y, zz[None, :], seg_full, layout.light[side]
    )


def paint_street_end(canvas: Canvas, layout: StreetLayout) -> None:
    """The building closing the street at depth ``street_end`` (none for an open street)."""
    if layout.street_end >= 1e4:
        return
    cam, z = layout.camera, layout.street_end
    x0, x1 = layout.facade_x(0) - 6.0, layout.facade_x(1) + 6.0
    (u0, u1), (v0, v1) = cam.project(np.array([x0, x1]), np.array([layout.end_height, 0.0]), z)
    r0, r1 = (
        int(np.clip(np.floor(v0), 0, canvas.height)),
        int(np.clip(np.ceil(v1), 0, canvas.height)),
    )
    c0, c1 = int(np.clip(np.floor(u0), 0, canvas.width)), int(np.clip(np.ceil(u1), 0, canvas.width))
    if r1 <= r0 or c1 <= c0:
        return
    yc = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
    xc = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5
    y = cam.elevation - (yc - cam.horizon) * z / cam.focal
    along = np.broadcast_to((xc - cam.center) * z / cam.focal, (r1 - r0, c1 - c0))
    mask = np.broadcast_to((y >= 0) & (y <= layout.end_height), along.shape)
    if not mask.any():
        return
    seg = {
        "kind": np.array(WALL_KINDS.index("building")),
        "height": np.float32(layout.end_height),
        "bay": np.float32(3.0),
        "storey": np.float32(3.2),
        "color": layout.end_color,
    }
    light = 0.5 * (layout.light[0] + layout.light[1])
    _paint_facade(canvas, layout, Region(r0, c0, mask.copy()), along, y, np.float32(z), seg, light)
