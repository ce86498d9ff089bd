"""The scale hyperprior codec behind the :class:`SourceCodec` interface (Balle et al., ICLR 2018).

Three rate points ``q1`` < ``q2`` < ``q3``, each a model trained at its own lambda (see
:data:`~source_codecs.hyperprior.zoo.ZOO`); rate control picks among them. See
:mod:`.bitstream` for the format.
"""

from __future__ import annotations

__all__ = ["HyperpriorCodec", "shipped_model", "to_tensor"]

from collections.abc import Sequence
from functools import cache

import numpy as np
import torch

from source_codecs.base import SourceCodec, check_image, network_batches
from source_codecs.errors import BudgetTooSmall, DecodeError, each_or_none
from source_codecs.hyperprior.bitstream import Streams, pack, unpack
from source_codecs.hyperprior.model import ScaleHyperprior
from source_codecs.hyperprior.zoo import RATES, shipped_weights
from source_codecs.params import Param
from source_codecs.rate_control import rate_points_to_try
from source_codecs.registry import register_codec

_CODER_ERRORS = (AssertionError, ValueError, RuntimeError, KeyError, IndexError, OverflowError)
"""What constriction raises on data that no encoder could have written."""


@cache
def shipped_model(weights: str, device: str = "cpu") -> ScaleHyperprior:
    """The shipped model ``weights`` (a rate point, or ``residual``), its transforms on
    ``device``, loaded once per process and device."""
    return ScaleHyperprior.load(shipped_weights(weights)).place_transforms(device)


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
        x = to_tensor(image)
        smallest = None
        for rate in rate_points_to_try(self.params["rate"], RATES):
            z, y = shipped_model(rate, self.device).compress(x)
            stream = pack(Streams(rate, z, y))
            if max_bytes is None or len(stream) <= max_bytes:
                return stream
            smallest = len(stream) if smallest is None else min(smallest, len(stream))
        raise BudgetTooSmall(self.name, max_bytes, smallest)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Image uint8 [height, width, 3]; :class:`DecodeError` if the stream is malformed."""
        weights, y_hat = self._entropy_decode(data, height, width)
        return _to_image(shipped_model(weights, self.device).synthesise(y_hat, height, width))[0]

    def decode_batch(
        self, streams: Sequence[bytes], height: int, width: int
    ) -> list[np.ndarray | None]:
        """See :meth:`SourceCodec.decode_batch`: every stream's range decoding (CPU), then the
        synthesis transform over batches of :attr:`network_batch_size` latents of one model."""
        latents = each_or_none(lambda data: self._entropy_decode(data, height, width), streams)
        images: list[np.ndarray | None] = [None] * len(streams)
        keys = [None if item is None else item[0] for item in latents]
        for chunk in network_batches(keys, self.network_batch_size):
            y_hat = torch.cat([latents[i][1] for i in chunk])
            model = shipped_model(keys[chunk[0]], self.device)
            for i, image in zip(
                chunk, _to_image(model.synthesise(y_hat, height, width)), strict=True
            ):
                images[i] = image
        return images

    def _parts(self, data: bytes) -> tuple[str, bytes, bytes, float]:
        """(weights of :func:`shipped_model`, z stream, y stream, quantisation step of y) of a
        stream; :class:`DecodeError` if its header is malformed."""
        streams = unpack(bytes(data))
        return streams.rate, streams.z, streams.y, 1.0

    def _entropy_decode(self, data: bytes, height: int, width: int) -> tuple[str, torch.Tensor]:
        """(weights, y_hat float32 [1, M, H', W']) of a stream; :class:`DecodeError` if it is
        malformed."""
        weights, z, y, step = self._parts(data)
        try:
            y_hat = shipped_model(weights, self.device).entropy_decode(z, y, height, width, step)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"{self.name}: stream does not decode ({exc})") from exc
        return weights, y_hat


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """[1, 3, H, W] float32 in [0, 1] of a uint8 [H, W, 3] image."""
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255


def _to_image(x_hat: torch.Tensor) -> np.ndarray:
    """uint8 [B, H, W, 3] of a [B, 3, H, W] batch in [0, 1]."""
    return (x_hat * 255).round().byte().permute(0, 2, 3, 1).numpy()
