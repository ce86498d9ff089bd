"""The enhancement layer: the residual between the image and the base reconstruction, or the image
itself, coded by a classical codec of the project or by the learned residual coder
(``hyperprior_residual``).

The layer's first byte names what it carries (:data:`MODES`):

- ``residual``: ``r = x - x_base`` (integers in -255..255 per channel) as an 8-bit RGB image
  ``round(r / 2) + 128`` (clipped to 0..255; halving keeps the full range at the cost of one level
  of precision, far below what the layer's bitrates resolve), coded by a registered codec
  rate-controlled to the layer's byte budget: a classical one, or ``hyperprior_residual``, a scale
  hyperprior trained on such residual images with its quantisation step as the rate knob. The
  receiver adds ``2 * (decoded - 128)`` to its base reconstruction.
- ``image``: the image itself in the same budget; the receiver shows it in place of the base. Where
  the layer has room for a classical image, that image is often closer to the original than the
  generator's base plus a residual of the same size: the residual carries the negative of the
  generator's invented texture, which costs bits and restores nothing.

``auto_mse`` and ``auto_lpips`` (:data:`CHOICES`) code both and send the one whose reconstruction
is closer to the image: by squared error (distortion), or by ST-LPIPS (perception; the network of
:mod:`.perceptual`, the one the ``lpips`` metric uses, run once more at the encoder for both
candidates).

A classical decoder is a third-party library fed bytes from the channel, so it runs isolated in its
own :class:`~source_codecs.isolation.SafeDecoder` worker (a trusted one, the learned coder, in this
process): a corrupted layer that makes it raise, hang or crash costs the enhancement, never the base
image or the process.
"""

from __future__ import annotations

__all__ = [
    "CHOICES",
    "MODES",
    "RESIDUAL_CODECS",
    "decode_enhancement",
    "encode_enhancement",
    "residual_image",
]

from functools import cache

import numpy as np
import torch

from source_codecs.base import SourceCodec
from source_codecs.errors import BudgetTooSmall
from source_codecs.isolation import SafeDecoder
from source_codecs.registry import make_codec
from source_codecs.semantic_gan.perceptual import STLPIPSLoss
from source_codecs.semantic_gan.pixels import to_signed

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


MODES: tuple[str, ...] = ("residual", "image")
"""What an enhancement layer carries; its index is the layer's first byte."""
CHOICES: tuple[str, ...] = (*MODES, "auto_mse", "auto_lpips")
"""The encoder's choices: a mode, or the closer of both by squared error or by ST-LPIPS."""


def _refined(mode: str, decoded: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The receiver's image (uint8 [H, W, 3]) from a layer of ``mode`` decoded to ``decoded``."""
    if mode == "image":
        return decoded
    refined = base.astype(np.int16) + 2 * (decoded.astype(np.int16) - 128)
    return np.clip(refined, 0, 255).astype(np.uint8)


def _squared_error(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of squared differences of two uint8 [H, W, 3] images."""
    return float(np.square(a.astype(np.float64) - b.astype(np.float64)).sum())


@cache
def _stlpips_network() -> STLPIPSLoss:
    return STLPIPSLoss().eval()


@torch.no_grad()
def _stlpips(a: np.ndarray, b: np.ndarray) -> float:
    """ST-LPIPS distance of two uint8 [H, W, 3] images."""
    return float(_stlpips_network()(to_signed(a)[None], to_signed(b)[None]))


_DISTANCES = {"auto_mse": _squared_error, "auto_lpips": _stlpips}


def encode_enhancement(
    image: np.ndarray, base: np.ndarray, max_bytes: int, codec: str, mode: str = "residual"
) -> bytes:
    """The enhancement layer of ``image`` over ``base`` (both uint8 [H, W, 3]) in at most
    ``max_bytes`` bytes: a mode byte, then the stream of ``codec``; empty when ``codec`` cannot go
    that low.

    :param mode: one of :data:`CHOICES`: ``residual``, ``image``, or ``auto_mse`` / ``auto_lpips``
        (both coded, the one whose reconstruction is closer to ``image`` by squared error / by
        ST-LPIPS kept; the residual where they tie).
    """
    coder = _residual_codec(codec)
    targets = {"residual": lambda: residual_image(image, base), "image": lambda: image}
    best, best_error = b"", np.inf
    distance = _DISTANCES.get(mode)
    for name in MODES if distance else (mode,):
        try:
            stream = coder.encode(targets[name](), max_bytes - 1)
        except BudgetTooSmall:
            continue
        error = 0.0
        if distance:  # our own fresh stream: decoded in this process
            decoded = coder.decode(stream, *image.shape[:2])
            error = distance(_refined(name, decoded, base), image)
        if error < best_error:
            best, best_error = bytes([MODES.index(name)]) + stream, error
    return best


def decode_enhancement(data: bytes, base: np.ndarray, codec: str) -> np.ndarray | None:
    """``base`` (uint8 [H, W, 3]) refined by the enhancement layer ``data`` (or replaced, for a
    layer carrying the image); None if the layer does not decode (the receiver then shows the
    base)."""
    if len(data) < 2 or data[0] >= len(MODES):
        return None
    height, width = base.shape[:2]
    coder = _residual_codec(codec)
    outcome = _decoder().decode_with(coder, data[1:], height, width, _DECODE_TIMEOUT_S)
    if not outcome.ok:
        return None
    return _refined(MODES[data[0]], outcome.image, base)
