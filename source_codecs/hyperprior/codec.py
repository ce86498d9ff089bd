"""The scale hyperprior codec behind the :class:`SourceCodec` interface (Balle et al., ICLR 2018).

Three rate points ``q1`` < ``q2`` < ``q3``, each a model trained at its own lambda (see
:data:`~source_codecs.hyperprior.model.RATE_POINTS`); rate control picks among them. See
:mod:`.bitstream` for the format.
"""

from __future__ import annotations

__all__ = ["HyperpriorCodec"]

from functools import cache

import numpy as np
import torch

from source_codecs.base import SourceCodec, check_image
from source_codecs.errors import BudgetTooSmall, DecodeError
from source_codecs.hyperprior.bitstream import RATES, Streams, pack, unpack
from source_codecs.hyperprior.model import ScaleHyperprior, shipped_weights
from source_codecs.params import Param
from source_codecs.rate_control import rate_points_to_try
from source_codecs.registry import register_codec

_CODER_ERRORS = (AssertionError, ValueError, RuntimeError, KeyError, IndexError, OverflowError)
"""What constriction raises on data that no encoder could have written."""


@cache
def _model(rate: str) -> ScaleHyperprior:
    """The shipped model of a rate point, loaded once per process."""
    return ScaleHyperprior.load(shipped_weights(rate))


@register_codec("hyperprior")
class HyperpriorCodec(SourceCodec):
    """Learned transform coding with a scale hyperprior (Balle et al., ICLR 2018).

    :param rate: ``auto`` (with a budget: the largest rate point whose stream fits; without: ``q3``)
        or one rate point, ``q1`` (lowest) / ``q2`` / ``q3``.

    The decoder is trusted: range decoding is linear in the stream's length, and a stream that does
    not decode raises :class:`DecodeError`; any other corrupted stream decodes to some image.

    >>> from source_codecs import make_codec
    >>> codec = make_codec("hyperprior", {"rate": "q1"})
    >>> image = np.full((64, 128, 3), 120, np.uint8)
    >>> codec.decode(codec.encode(image, None), 64, 128).shape
    (64, 128, 3)
    """

    trusted_decoder = True
    parameters = {"rate": Param("auto", str, choices=("auto", *RATES), doc="rate point")}

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """Stream of the largest allowed rate point within ``max_bytes``.

        :param image: uint8 [H, W, 3].
        :param max_bytes: byte budget, None = the highest allowed rate point.
        :param labels: ignored.
        :raises BudgetTooSmall: even the lowest allowed rate point exceeds ``max_bytes``.
        """
        check_image(image)
        x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255
        smallest = None
        for rate in rate_points_to_try(self.params["rate"], RATES):
            z, y = _model(rate).compress(x)
            stream = pack(Streams(rate, z, y))
            if max_bytes is None or len(stream) <= max_bytes:
                return stream
            smallest = len(stream) if smallest is None else min(smallest, len(stream))
        raise BudgetTooSmall(self.name, max_bytes, smallest)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Image uint8 [height, width, 3]; :class:`DecodeError` if the stream is malformed."""
        streams = unpack(bytes(data))
        try:
            x_hat = _model(streams.rate).decompress(streams.z, streams.y, height, width)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"hyperprior: stream does not decode ({exc})") from exc
        return (x_hat[0] * 255).round().byte().permute(1, 2, 0).numpy()
