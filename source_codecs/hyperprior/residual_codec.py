"""The enhancement layer's learned residual coder: a variable-rate scale hyperprior.

One :class:`~source_codecs.hyperprior.model.ScaleHyperprior` trained on the semantic GAN's residual
images (``python -m source_codecs.semantic_gan.residuals``, then ``python -m
source_codecs.hyperprior.train --step-min 1 --step-max 16 ...``: the quantisation step of y drawn
log-uniformly for each batch), so that the step sets the rate at inference: y is coded as
round(y / step) under the hyperprior's scales / step, and the decoder multiplies back. The rate knob
is the step index k, step = 2^(k / 8) for k = 0..40 (1 to 32); the stream is the hyperprior's with k
in the place of the rate byte (see :mod:`.bitstream`).
"""

from __future__ import annotations

__all__ = ["STEPS", "ResidualHyperpriorCodec"]

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from source_codecs.hyperprior.bitstream import pack_parts, unpack_parts
from source_codecs.hyperprior.codec import HyperpriorCodec, shipped_model
from source_codecs.hyperprior.zoo import shipped_weights
from source_codecs.params import Param
from source_codecs.registry import register_codec

STEPS: tuple[float, ...] = tuple(2 ** (k / 8) for k in range(41))
"""Quantisation step of y for each knob index k: 2^(k/8), 1 (finest, most bytes) to 32."""

WEIGHTS = "residual"
"""The shipped weights file: ``weights/hyperprior_residual.pt``."""


@register_codec("hyperprior_residual")
class ResidualHyperpriorCodec(HyperpriorCodec):
    """A scale hyperprior trained on residual images, rate-controlled by its quantisation step.

    Built as the semantic GAN's learned enhancement coder (``enhancement_codec:
    hyperprior_residual``); as a codec of its own it codes any image, poorly unless it looks like a
    residual (mid-grey with detail).

    :param step: index k of the step 2^(k/8) used when no byte budget is given (0..40).

    >>> from source_codecs import make_codec
    >>> codec = make_codec("hyperprior_residual")
    >>> residual = np.full((64, 128, 3), 128, np.uint8)
    >>> codec.decode(codec.encode(residual, 400), 64, 128).shape
    (64, 128, 3)
    """

    parameters = {
        "step": Param(16, int, low=0, high=len(STEPS) - 1, doc="step index without a budget")
    }

    def knobs(self, image: np.ndarray) -> Sequence[int]:
        """Step indexes, smallest stream (coarsest step) first."""
        return range(len(STEPS) - 1, -1, -1)

    def default_knob(self, image: np.ndarray) -> int:
        """The ``step`` parameter."""
        return self.params["step"]

    def write(self, image: np.ndarray, knob: int) -> bytes:
        """The stream of ``image`` (uint8 [H, W, 3]) at step index ``knob``."""
        model = shipped_model(WEIGHTS, self.device)
        z, y = model.compress_latent(self._analyse(model, image), STEPS[knob])
        return pack_parts(knob, z, y)

    def _parts(self, data: bytes) -> tuple[Path, bytes, bytes, float, None]:
        tag, z, y = unpack_parts(bytes(data), range(len(STEPS)), self.name)
        return shipped_weights(WEIGHTS), z, y, STEPS[tag], None
