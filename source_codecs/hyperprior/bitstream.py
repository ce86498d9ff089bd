"""The byte layout of a hyperprior stream.

::

    byte 0        format version (1)
    byte 1        the model and its rate: 1, 2, 3 for the rate points q1, q2, q3; 16 + k for the
                  variable-rate model at knob k, rate level k / 8 (:data:`LEVEL_SUBSTEPS`; k up to
                  8 (levels - 1) of the model); ``hyperprior_residual``: the index k of its
                  quantisation step 2^(k/8), 0..40
    varint        length of the z stream in bytes (LEB128: 7 bits a byte, low bits first)
    z stream      range-coded hyper-latent z (factorized prior)
    y stream      range-coded latent y (Gaussian conditional), to the end of the stream

Each coded stream is the range coder's 32-bit words, big-endian, with the trailing zero bytes
removed (a range decoder reads missing words as zeros). Image size is not in the stream: the
receiver knows it (as for every codec of the link). bpp counts every byte of :func:`pack`.
"""

from __future__ import annotations

__all__ = [
    "LEVEL_SUBSTEPS",
    "VARIABLE",
    "VERSION",
    "Streams",
    "bytes_to_words",
    "pack",
    "pack_parts",
    "unpack",
    "unpack_parts",
    "words_to_bytes",
]

from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from source_codecs.errors import DecodeError
from source_codecs.hyperprior.zoo import RATES, VARIABLE_MODEL

VERSION = 1
_MAX_VARINT_BYTES = 4

VARIABLE = VARIABLE_MODEL.name
"""The ``rate`` of a stream of the variable-rate model (see :class:`Streams`)."""

LEVEL_SUBSTEPS = 8
"""Knobs per unit of rate level: knob k of the variable-rate model is level k / 8."""

_KNOB_TAG = 16
"""Byte 1 of a variable-rate stream at knob k is 16 + k."""

_TAGS = (*range(1, len(RATES) + 1), *range(_KNOB_TAG, 256))
"""The values of byte 1 that :func:`unpack` accepts."""


@dataclass(frozen=True)
class Streams:
    """The parts of a stream: the model (a rate point ``q1``..``q3``, or :data:`VARIABLE`), the
    knob of the variable-rate model (0 for a rate point), z stream and y stream."""

    rate: str
    z: bytes
    y: bytes
    knob: int = 0

    @property
    def level(self) -> float | None:
        """The variable-rate model's level, knob / :data:`LEVEL_SUBSTEPS` (None: a rate point)."""
        return self.knob / LEVEL_SUBSTEPS if self.rate == VARIABLE else None


def words_to_bytes(words: np.ndarray) -> bytes:
    """uint32 coder words -> big-endian bytes without the trailing zeros."""
    return np.asarray(words, dtype=np.uint32).astype(">u4").tobytes().rstrip(b"\0")


def bytes_to_words(data: bytes) -> np.ndarray:
    """The inverse of :func:`words_to_bytes`: uint32 words (missing bytes read as zeros)."""
    padded = data + b"\0" * (-len(data) % 4)
    return np.frombuffer(padded, dtype=">u4").astype(np.uint32)


def pack(streams: Streams) -> bytes:
    """The stream's bytes (see the module docstring).

    :raises ValueError: an unknown rate point, or a knob that does not fit the byte.
    """
    if streams.rate == VARIABLE:
        if not 0 <= streams.knob < 256 - _KNOB_TAG:
            raise ValueError(f"knob {streams.knob} outside 0..{255 - _KNOB_TAG}")
        return pack_parts(_KNOB_TAG + streams.knob, streams.z, streams.y)
    if streams.rate not in RATES:
        raise ValueError(f"unknown rate point {streams.rate!r}")
    return pack_parts(RATES.index(streams.rate) + 1, streams.z, streams.y)


def unpack(data: bytes) -> Streams:
    """Split a stream into its parts.

    :raises DecodeError: wrong version or rate byte, a malformed length, or a z stream longer than
        the data. (Whether a knob is within the model's levels is the codec's to check.)
    """
    tag, z, y = unpack_parts(data, _TAGS, "hyperprior")
    if tag >= _KNOB_TAG:
        return Streams(VARIABLE, z, y, tag - _KNOB_TAG)
    return Streams(RATES[tag - 1], z, y)


def pack_parts(tag: int, z: bytes, y: bytes) -> bytes:
    """The layout of the module docstring with any byte ``tag`` (0..255) in the place of byte 1 (the
    rate point of ``hyperprior``, the quantisation step of ``hyperprior_residual``)."""
    return bytes([VERSION, tag]) + _varint(len(z)) + z + y


def unpack_parts(data: bytes, tags: Container[int], codec: str) -> tuple[int, bytes, bytes]:
    """(tag, z stream, y stream) of a :func:`pack_parts` stream.

    :param tags: the tag values the codec writes.
    :param codec: the codec's name, for the error messages.
    :raises DecodeError: wrong version, a tag outside ``tags``, a malformed length, or a z stream
        longer than the data.
    """
    if len(data) < 3:
        raise DecodeError(f"{codec}: stream of {len(data)} bytes is shorter than its header")
    if data[0] != VERSION:
        raise DecodeError(f"{codec}: unknown format version {data[0]}")
    if data[1] not in tags:
        raise DecodeError(f"{codec}: unknown header byte {data[1]}")
    length, start = _read_varint(data, 2, codec)
    if start + length > len(data):
        raise DecodeError(f"{codec}: z stream of {length} bytes overruns the data")
    return data[1], data[start : start + length], data[start + length :]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, start: int, codec: str) -> tuple[int, int]:
    """(value, index after it) of the varint at ``data[start]``; DecodeError if malformed."""
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if start + i >= len(data):
            break
        value |= (data[start + i] & 0x7F) << (7 * i)
        if not data[start + i] & 0x80:
            return value, start + i + 1
    raise DecodeError(f"{codec}: malformed z stream length")
