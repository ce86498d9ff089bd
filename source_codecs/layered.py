"""The interface of layered codecs: a base layer that survives erasures and an enhancement layer.

A layered stream is sent in two parts that the link may protect differently (a robust MCS for the
base, a faster one for the enhancement): the transmitter codes the base layer first, learns how many
channel uses it took, and gives the enhancement what is left. The receiver decodes whatever survived:
a base layer with lost packets still decodes (erased regions are regenerated), a lost enhancement
leaves the base reconstruction.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from source_codecs.base import SourceCodec
from source_codecs.errors import each_or_none

__all__ = ["LayeredCodec", "ReceivedLayers", "erased_bytes"]


@dataclass(frozen=True)
class ReceivedLayers:
    """What arrived of one image's layers.

    :param base: the base layer as received.
    :param base_erased: bool [len(base)], True where a byte was lost (None: none).
    :param enhancement: the enhancement layer, or None when it was lost or not sent.
    """

    base: bytes
    base_erased: np.ndarray | None
    enhancement: bytes | None


class LayeredCodec(SourceCodec):
    """A :class:`SourceCodec` whose stream is a base layer plus an optional enhancement layer.

    :meth:`encode` / :meth:`decode` handle the two layers as one stream (for a single-MCS link or an
    error-free benchmark); the layer-wise methods below serve a link that sends them apart.
    """

    @abstractmethod
    def encode_base(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """The base layer alone, a complete stream of at most ``max_bytes`` bytes.

        :raises BudgetTooSmall: the base layer cannot go as low as ``max_bytes``.
        """

    @abstractmethod
    def encode_enhancement(self, image: np.ndarray, base: bytes, max_bytes: int) -> bytes:
        """The enhancement layer of ``image`` over the base layer ``base``, at most ``max_bytes``
        bytes; empty when the codec is configured without one or nothing useful fits."""

    @abstractmethod
    def decode_layers(
        self,
        base: bytes,
        base_erased: np.ndarray | None,
        enhancement: bytes | None,
        height: int,
        width: int,
    ) -> np.ndarray:
        """The image from what arrived.

        :param base: the base layer as received.
        :param base_erased: bool [len(base)], True where a byte was lost (None: none).
        :param enhancement: the enhancement layer, or None when it was lost or not sent.
        :return: uint8 [height, width, 3].
        :raises DecodeError: the base layer lost what it cannot do without (e.g. the semantic map).
        """

    def decode_layers_batch(
        self, received: Sequence[ReceivedLayers], height: int, width: int
    ) -> list[np.ndarray | None]:
        """:meth:`decode_layers` of several images of the same size (a codec with a network may run
        it on all of them at once).

        :return: uint8 [height, width, 3] per image, None where :meth:`decode_layers` raises
            :class:`DecodeError`.
        """
        return each_or_none(
            lambda item: self.decode_layers(
                item.base, item.base_erased, item.enhancement, height, width
            ),
            received,
        )

    @abstractmethod
    def decode_with_erasures(
        self, data: bytes, height: int, width: int, erased_bytes: np.ndarray | None
    ) -> np.ndarray:
        """The image from a single stream (:meth:`encode`'s) some of whose bytes were lost.

        :param erased_bytes: bool [len(data)], True where the byte was lost (None: none).
        :raises DecodeError: as :meth:`decode_layers`.
        """


def erased_bytes(codeword_ok: np.ndarray, codeword_bytes: int, length: int) -> np.ndarray:
    """Which bytes of a payload were lost, from the CRC verdict of the codewords that carried it.

    :param codeword_ok: bool [num_codewords], True where the codeword passed its CRC.
    :param codeword_bytes: payload bytes per codeword (the payload is cut into consecutive blocks).
    :param length: payload length in bytes.
    :return: bool [length], True for the bytes of failed codewords.
    """
    return np.repeat(~np.asarray(codeword_ok, dtype=bool), codeword_bytes)[:length]
