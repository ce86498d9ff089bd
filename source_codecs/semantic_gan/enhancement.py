"""The enhancement layer: the residual between the image and the base reconstruction, coded by a
classical codec of the project or by the learned residual coder (``hyperprior_residual``).

The residual ``r = x - x_base`` (integers in -255..255 per channel) is carried as an 8-bit RGB image
``round(r / 2) + 128`` (clipped to 0..255; halving keeps the full range at the cost of one level of
precision, far below what the layer's bitrates resolve) and coded by a registered codec
rate-controlled to the layer's byte budget: a classical one, or ``hyperprior_residual``, a scale
hyperprior trained on such residual images with its quantisation step as the rate knob. The receiver adds ``2 * (decoded - 128)`` to its base
reconstruction.

A classical residual decoder is a third-party library fed bytes from the channel, so it runs isolated
in its own :class:`~source_codecs.isolation.SafeDecoder` worker (a trusted one, the learned coder, in
this process): a corrupted layer that makes it raise, hang or
crash costs the enhancement, never the base image or the process.
"""

from __future__ import annotations

__all__ = ["RESIDUAL_CODECS", "decode_residual", "encode_residual", "residual_image"]

from functools import cache

import numpy as np

from source_codecs.base import SourceCodec
from source_codecs.errors import BudgetTooSmall
from source_codecs.isolation import SafeDecoder
from source_codecs.registry import make_codec

RESIDUAL_CODECS: tuple[str, ...] = ("jpeg2000", "webp", "bpg", "hyperprior_residual")
"""Codecs the enhancement layer can use (see ``benchmarks/results/enhancement_codec.md``)."""

_DECODE_TIMEOUT_S = 20.0


@cache
def _decoder() -> SafeDecoder:
    return SafeDecoder()


@cache
def _residual_codec(name: str) -> SourceCodec:
    """The residual codec ``name`` with its default parameters, built once."""
    return make_codec(name)


def residual_image(image: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The residual as an 8-bit image: uint8 [H, W, 3] = clip(round((image - base) / 2) + 128)."""
    r = image.astype(np.int16) - base.astype(np.int16)
    return np.clip(np.round(r / 2) + 128, 0, 255).astype(np.uint8)


def encode_residual(image: np.ndarray, base: np.ndarray, max_bytes: int, codec: str) -> bytes:
    """The enhancement layer of ``image`` over ``base`` (both uint8 [H, W, 3]) in at most
    ``max_bytes`` bytes; empty when ``codec`` cannot go that low."""
    try:
        return _residual_codec(codec).encode(residual_image(image, base), max_bytes)
    except BudgetTooSmall:
        return b""


def decode_residual(data: bytes, base: np.ndarray, codec: str) -> np.ndarray | None:
    """``base`` (uint8 [H, W, 3]) refined by the enhancement layer ``data``; None if the layer does not
    decode (the receiver then shows the base)."""
    height, width = base.shape[:2]
    outcome = _decoder().decode_with(_residual_codec(codec), data, height, width, _DECODE_TIMEOUT_S)
    if not outcome.ok:
        return None
    refined = base.astype(np.int16) + 2 * (outcome.image.astype(np.int16) - 128)
    return np.clip(refined, 0, 255).astype(np.uint8)
