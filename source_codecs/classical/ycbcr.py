"""Full-range BT.601 YCbCr (the JPEG/JFIF and BPG default) with 4:2:0 or 4:4:4 chroma.

Video codecs code YCbCr planes, not RGB. The conversion is part of the codec here, as in BPG whose
header fixes the colour space: the receiver applies the inverse transform below whatever the
bitstream's optional colour description (VUI) says, so a corrupted VUI cannot change the colours.

Chroma is downsampled by averaging 2x2 blocks (centre-sited samples) and upsampled bilinearly with
the same siting. Samples of bit depth ``b`` span the full range 0 .. 2^b - 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHROMA_FORMATS", "pad_to_even", "planes_to_rgb", "rgb_to_planes"]

CHROMA_FORMATS = ("4:2:0", "4:4:4")

# Rows: Y, Cb, Cr from R, G, B in [0, 1] (ITU-R BT.601 luma weights, full range).
_RGB_TO_YCC = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.299 / 1.772, -0.587 / 1.772, 0.5],
        [0.5, -0.587 / 1.402, -0.114 / 1.402],
    ]
)
_YCC_TO_RGB = np.linalg.inv(_RGB_TO_YCC)


def pad_to_even(image: np.ndarray) -> np.ndarray:
    """``image`` [H, W, C] padded by edge replication to even H and W (4:2:0 needs both even)."""
    pad_h, pad_w = image.shape[0] % 2, image.shape[1] % 2
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def rgb_to_planes(image: np.ndarray, chroma: str, bit_depth: int) -> list[np.ndarray]:
    """Y, Cb, Cr sample planes of an RGB image.

    :param image: uint8 [H, W, 3], RGB; H and W even for ``"4:2:0"`` (see :func:`pad_to_even`).
    :param chroma: ``"4:2:0"`` (Cb, Cr [H/2, W/2]) or ``"4:4:4"`` (Cb, Cr [H, W]).
    :param bit_depth: bits per sample, 8..16.
    :return: [Y [H, W], Cb, Cr], uint8 for 8 bits, uint16 above.
    """
    if chroma not in CHROMA_FORMATS:
        raise ValueError(f"chroma must be one of {CHROMA_FORMATS}, got {chroma!r}")
    ycc = (image.astype(np.float64) / 255.0) @ _RGB_TO_YCC.T  # Y in [0, 1], Cb, Cr in [-0.5, 0.5]
    ycc[..., 1:] += 0.5
    planes = [ycc[..., 0], ycc[..., 1], ycc[..., 2]]
    if chroma == "4:2:0":
        if image.shape[0] % 2 or image.shape[1] % 2:
            raise ValueError(f"4:2:0 needs an even height and width, got {list(image.shape[:2])}")
        planes[1:] = [_downsample(p) for p in planes[1:]]
    peak = (1 << bit_depth) - 1
    dtype = np.uint8 if bit_depth <= 8 else np.uint16
    return [np.clip(np.rint(p * peak), 0, peak).astype(dtype) for p in planes]


def planes_to_rgb(planes: list[np.ndarray], bit_depth: int) -> np.ndarray:
    """The RGB image of Y, Cb, Cr planes (the inverse of :func:`rgb_to_planes`).

    :param planes: [Y [H, W], Cb, Cr] with Cb, Cr [H, W] (4:4:4) or [ceil(H/2), ceil(W/2)] (4:2:0).
    :param bit_depth: bits per sample.
    :return: uint8 [H, W, 3], RGB.
    """
    peak = float((1 << bit_depth) - 1)
    luma = planes[0].astype(np.float64) / peak
    height, width = luma.shape
    chroma = [_upsample(p.astype(np.float64) / peak, height, width) - 0.5 for p in planes[1:]]
    rgb = np.stack([luma, *chroma], axis=-1) @ _YCC_TO_RGB.T
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def _downsample(plane: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block: [H, W] -> [H/2, W/2]."""
    height, width = plane.shape
    return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))


def _upsample(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear interpolation of a plane to [height, width], centre-sited, edges replicated."""
    if plane.shape == (height, width):
        return plane
    rows = _taps(plane.shape[0], height)
    cols = _taps(plane.shape[1], width)
    (r0, r1, rw), (c0, c1, cw) = rows, cols
    top = plane[r0][:, c0] * (1 - cw) + plane[r0][:, c1] * cw
    bottom = plane[r1][:, c0] * (1 - cw) + plane[r1][:, c1] * cw
    return top * (1 - rw[:, None]) + bottom * rw[:, None]


def _taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (lower, upper) and upper weight for each output position."""
    pos = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    pos = np.clip(pos, 0, size_in - 1)
    lower = np.floor(pos).astype(int)
    upper = np.minimum(lower + 1, size_in - 1)
    return lower, upper, pos - lower
