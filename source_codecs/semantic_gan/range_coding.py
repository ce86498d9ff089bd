"""Byte-exact packets on constriction's range coder (``constriction.stream.queue``).

A packet is the coder's 32-bit words, big-endian, with the trailing zero bytes removed (a range
decoder reads missing words as zeros, so nothing is lost); :func:`packet_decoder` restores them.
"""

from __future__ import annotations

__all__ = ["PacketDecoder", "PacketEncoder", "packet_decoder"]

import constriction
import numpy as np

_Categorical = constriction.stream.model.Categorical


class PacketEncoder:
    """Adaptive-model symbol coding into one packet.

    :meth:`code` has the same signature as :meth:`PacketDecoder.code`, so one modelling routine can
    drive both directions: the encoder is given the symbol, the decoder returns it.
    """

    def __init__(self) -> None:
        self._coder = constriction.stream.queue.RangeEncoder()

    def code(self, symbol: int | None, probs: np.ndarray) -> int:
        """Encode ``symbol`` in 0..len(probs)-1 under ``probs`` (float64 [n], any positive scale)."""
        assert symbol is not None
        if len(probs) > 1:  # a certain symbol costs nothing
            self._coder.encode(symbol, _Categorical(probs, perfect=False))
        return symbol

    def code_array(self, symbols: np.ndarray, probs: np.ndarray) -> None:
        """Encode int32 [m] ``symbols``, symbol i under row i of ``probs`` (float64 [m, n])."""
        if symbols.size:
            self._coder.encode(symbols.astype(np.int32), _Categorical(perfect=False), probs)

    def to_bytes(self) -> bytes:
        """The packet."""
        return self._coder.get_compressed().astype(">u4").tobytes().rstrip(b"\0")


class PacketDecoder:
    """The decoding counterpart of :class:`PacketEncoder` on one packet."""

    def __init__(self, packet: bytes) -> None:
        padded = packet + b"\0" * (-len(packet) % 4)
        words = np.frombuffer(padded, dtype=">u4").astype(np.uint32)
        self._coder = constriction.stream.queue.RangeDecoder(words)

    def code(self, symbol: int | None, probs: np.ndarray) -> int:
        """Decode one symbol under ``probs`` (``symbol`` is ignored)."""
        if len(probs) == 1:
            return 0
        return int(self._coder.decode(_Categorical(probs, perfect=False)))

    def code_array(self, probs: np.ndarray) -> np.ndarray:
        """Decode ``len(probs)`` symbols, row i of ``probs`` for symbol i: int32 [m]."""
        if not len(probs):
            return np.zeros(0, np.int32)
        return self._coder.decode(_Categorical(perfect=False), probs)


def packet_decoder(packet: bytes) -> PacketDecoder:
    """A decoder positioned at the start of ``packet``."""
    return PacketDecoder(packet)
