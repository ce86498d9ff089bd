"""The drawing surface: an RGB image and its label map, always written together."""

from __future__ import annotations

__all__ = ["Canvas", "Region"]

from dataclasses import dataclass, field

import numpy as np

from simulator.data.base import IGNORE_INDEX
from simulator.data.synthetic.textures import fractal_noise


@dataclass(frozen=True)
class Region:
    """A set of pixels: a boolean mask placed at ``(top, left)`` of the canvas.

    :param top: First row of the mask's box.
    :param left: First column of the mask's box.
    :param mask: [h, w] bool, the pixels of the box that belong to the region.
    :param solid: Every pixel of the box belongs to the region (``mask`` is all True), so painting
        needs no mask.
    """

    top: int
    left: int
    mask: np.ndarray
    solid: bool = False

    box: tuple[slice, slice] = field(init=False, repr=False, compare=False)
    """Row and column slices of the region's box in the canvas."""

    def __post_init__(self) -> None:
        h, w = self.mask.shape
        box = slice(self.top, self.top + h), slice(self.left, self.left + w)
        object.__setattr__(self, "box", box)  # frozen: set once, here

    @classmethod
    def filled(cls, top: int, left: int, height: int, width: int) -> Region:
        """The whole ``height x width`` box at ``(top, left)``."""
        return cls(top, left, np.ones((height, width), dtype=bool), solid=True)

    def __sub__(self, other: Region | None) -> Region:
        """The pixels of ``self`` that are not in ``other``."""
        if other is None:
            return self
        mask = self.mask.copy()
        rows, cols = self.box
        orows, ocols = other.box
        r0, r1 = max(rows.start, orows.start), min(rows.stop, orows.stop)
        c0, c1 = max(cols.start, ocols.start), min(cols.stop, ocols.stop)
        if r0 < r1 and c0 < c1:
            mask[r0 - self.top : r1 - self.top, c0 - self.left : c1 - self.left] &= ~other.mask[
                r0 - other.top : r1 - other.top, c0 - other.left : c1 - other.left
            ]
        return Region(self.top, self.left, mask)


def _is_zero(amplitude: float | np.ndarray) -> bool:
    return amplitude == 0 if isinstance(amplitude, (int, float)) else not np.any(amplitude)


def _float32(amplitude: float | np.ndarray) -> np.float32 | np.ndarray:
    return (
        np.float32(amplitude) if isinstance(amplitude, float) else np.asarray(amplitude, np.float32)
    )


class Canvas:
    """An image and its trainId label map; every paint call writes both with the same mask.

    :param height: Rows.
    :param width: Columns.
    :param rng: Random generator for the canvas's texture fields (consumed).

    :ivar image: [3, height, width] float32 RGB planes in 0..255 (planar, so masked writes are fast).
    :ivar labels: [height, width] uint8 trainIds, 255 where nothing was painted.
    :ivar grain: [height, width] float32 fine noise in about [-1, 1] (texture of surfaces).
    :ivar blotch: [height, width] float32 coarse noise in about [-1, 1] (stains, lighting variation).
    """

    def __init__(self, height: int, width: int, rng: np.random.Generator) -> None:
        self.height, self.width = height, width
        self.image = np.zeros((3, height, width), dtype=np.float32)
        self.labels = np.full((height, width), IGNORE_INDEX, dtype=np.uint8)
        self.grain = fractal_noise(rng, height, width, cells=width / 16, octaves=2, persistence=0.6)
        self.blotch = fractal_noise(rng, height, width, cells=3.0, octaves=2)

    def paint(
        self,
        region: Region | None,
        color: np.ndarray,
        label: int | np.ndarray,
        texture: float | np.ndarray = 0.0,
        stains: float | np.ndarray = 0.0,
    ) -> None:
        """Fill ``region`` with a textured colour and write its label under the same mask.

        :param region: The pixels; `None` (off-canvas) paints nothing.
        :param color: [3] RGB in 0..255, or [3, h, w] planes over the region's box.
        :param label: trainId of every pixel, or [h, w] over the region's box.
        :param texture: Relative amplitude of the fine grain (0.1 = +-10 % brightness), scalar or
            broadcastable to [h, w].
        :param stains: Relative amplitude of the coarse blotches, scalar or broadcastable to [h, w].
        """
        if region is None:
            return
        rows, cols = region.box
        where = True if region.solid else region.mask
        rgb = np.asarray(color)
        if rgb.ndim == 1:
            rgb = rgb[:, None, None]
        target = self.image[:, rows, cols]
        gain = self._texture(region, texture, stains)
        if gain is None:
            np.copyto(target, rgb, where=where, casting="unsafe")
        else:
            np.multiply(rgb.astype(np.float32, copy=False), gain, out=target, where=where)
        np.copyto(self.labels[rows, cols], label, where=where, casting="unsafe")

    def gain(
        self, region: Region, texture: float | np.ndarray, stains: float | np.ndarray
    ) -> np.ndarray:
        """[h, w] float32 brightness factors over the region's box: ``1 + texture*grain + stains*blotch``."""
        gain = self._texture(region, texture, stains)
        return np.ones(region.mask.shape, dtype=np.float32) if gain is None else gain

    def _texture(
        self, region: Region, texture: float | np.ndarray, stains: float | np.ndarray
    ) -> np.ndarray | None:
        """:meth:`gain`, or `None` where both amplitudes are zero (a zero term adds exactly nothing,
        so it is skipped)."""
        rows, cols = region.box
        total = None
        for amplitude, noise in ((texture, self.grain), (stains, self.blotch)):
            if _is_zero(amplitude):
                continue
            term = _float32(amplitude) * noise[rows, cols]
            if total is None:
                term += 1.0
                total = term
            else:
                total += term
        return total

    def shade(self, region: Region | None, factor: float) -> None:
        """Multiply the image inside ``region`` by ``factor`` (shadows); labels are unchanged."""
        if region is None:
            return
        rows, cols = region.box
        target = self.image[:, rows, cols]
        np.multiply(target, np.float32(factor), out=target, where=region.mask)

    def finish(self, rng: np.random.Generator, exposure: float, noise: float) -> np.ndarray:
        """Apply exposure and sensor noise, quantise (the last call: it overwrites :attr:`image`).

        :param rng: Random generator for the sensor noise (consumed).
        :param exposure: Global brightness gain.
        :param noise: Standard deviation of the additive sensor noise, in 0..255 units.
        :return: [height, width, 3] uint8 RGB.
        """
        grain = rng.standard_normal((self.height, self.width), dtype=np.float32)
        grain *= np.float32(noise)
        grain += np.float32(0.5)
        out = self.image  # exposed in place: the canvas is done
        out *= np.float32(exposure)
        out += grain
        np.clip(out, 0, 255, out=out)
        return np.stack(out.astype(np.uint8), axis=-1)  # quantised planes, then interleaved
