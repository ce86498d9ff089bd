"""Byte-exact packets on constriction's range coder (``constriction.stream.queue``).

A packet is the coder's 32-bit words, big-endian, with the trailing zero bytes removed (a range
decoder reads missing words as zeros, so nothing is lost); :func:`packet_decoder` restores them.
The coder's final flush writes more bytes than the decoder needs: :func:`shortest_packet` cuts
them (about 1.8 bytes per packet) under a check that the shorter packet still decodes the same,
worth it where that check is cheap (the vectorised latent packets, not the label map).
"""

from __future__ import annotations

__all__ = ["PacketDecoder", "PacketEncoder", "packet_decoder", "shortest_packet"]

from collections.abc import Callable

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


def shortest_packet(packet: bytes, decodes_same: Callable[[bytes], bool]) -> bytes:
    """``packet`` without the final bytes that its decoder does not need.

    Cutting ``k`` bytes leaves a prefix that reads as followed by zeros; the prefix plus one (in its
    last byte, with carry) reads as a slightly larger number. Either may still fall inside the
    coder's final interval. ``k`` grows while one of the two decodes the same symbols.

    :param packet: a packet from :meth:`PacketEncoder.to_bytes`.
    :param decodes_same: packet -> True if it decodes to the original symbols (and raises nothing).
    :return: the shortest packet found, ``packet`` itself if no byte can go.
    """
    best = packet
    for k in range(1, len(packet) + 1):
        prefix = packet[:-k]
        candidates = [prefix.rstrip(b"\0")]
        bumped = int.from_bytes(prefix, "big") + 1
        if prefix and bumped < 256 ** len(prefix):
            candidates.append(bumped.to_bytes(len(prefix), "big").rstrip(b"\0"))
        fits = [c for c in candidates if len(c) < len(best) and _safe(decodes_same, c)]
        if not fits:
            return best
        best = min(fits, key=len)
    return best


def _safe(decodes_same: Callable[[bytes], bool], packet: bytes) -> bool:
    """``decodes_same(packet)``, False if decoding raises (constriction asserts on invalid data)."""
    try:
        return decodes_same(packet)
    except (AssertionError, ValueError, RuntimeError, KeyError):  # constriction on invalid data
        return False
