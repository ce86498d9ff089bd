"""Seeded stream corruption for robustness checks of decoders: truncations and bit flips.

Test tooling, not product code: the decoder tests and ``benchmarks/classical_codecs.py`` import it.

Channel errors reach a source decoder as a stream that ends early (lost tail) or has flipped bits.
These are the kinds the fuzzing test and the codec benchmark feed through
:func:`source_codecs.safe_decode`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CORRUPTIONS", "corrupt_stream"]

CORRUPTIONS = ("truncate", "flip_anywhere", "flip_header")
_HEADER_BYTES = 32


def corrupt_stream(stream: bytes, kind: str, rng: np.random.Generator) -> bytes:
    """A corrupted copy of ``stream``.

    :param stream: the intact stream, at least 2 bytes.
    :param kind: ``truncate`` (cut at a random length, 1 .. len-1 bytes kept), ``flip_anywhere``
        (1..8 random bit flips) or ``flip_header`` (1..3 bit flips in the first 32 bytes).
    :param rng: the random generator (seed it for reproducible cases).
    """
    data = bytearray(stream)
    if kind == "truncate":
        return bytes(data[: int(rng.integers(1, len(data)))])
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; choose from {', '.join(CORRUPTIONS)}")
    span, most = (len(data), 8) if kind == "flip_anywhere" else (min(_HEADER_BYTES, len(data)), 3)
    for pos in rng.integers(0, span, size=int(rng.integers(1, most + 1))):
        data[pos] ^= 1 << int(rng.integers(8))
    return bytes(data)
