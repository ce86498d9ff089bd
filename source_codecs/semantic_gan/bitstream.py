"""The semantic GAN codec's bitstream: a small header, the label-map packet, the latent packets.

Layout (bytes)::

    0        version (2 bits) | rate point (2 bits: its row in
             :data:`.zoo.ZOO`, 0 low, 1 mid, 2 high) | log2 map factor (3 bits:
             map factor 1..32) | enhancement flag E (1 bit)
    1        latent rows per latent packet, R (1..255)
    2..      packet lengths as LEB128 varints: the map packet, then every latent packet but the last
             (the last one takes the remaining bytes), or with E = 1 every latent packet (the
             enhancement layer takes the remaining bytes)
    ...      the map packet (label_coding), the latent packets (latent_coding), in order, then with
             E = 1 the enhancement layer (:mod:`.enhancement`)

The header, map and latent packets are the base layer; a base-layer stream is a complete stream.
A latent packet of length 0 was left out by the encoder (a budget below the lowest rate point): the
receiver regenerates its band from the map alone, as for a packet lost on the channel.

The image size is not sent: the receiver knows it (``decode(data, height, width)``), and with it
the number of latent packets ``ceil(ceil(H / 16) / R)``. Each packet has its own range-coder
state: a lost latent packet erases only its band of the latent; a lost header or map packet
leaves nothing to decode from.
"""

from __future__ import annotations

__all__ = ["MAP_FACTORS", "Packets", "pack", "unpack"]

from dataclasses import dataclass

from source_codecs.errors import DecodeError
from source_codecs.semantic_gan.zoo import RATES

VERSION = 2
MAP_FACTORS: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
"""Resolutions 1 / factor at which the label map can be coded."""


@dataclass(frozen=True)
class Packets:
    """The content of a stream.

    :param rate: rate point, ``low``, ``mid`` or ``high``.
    :param map_factor: the map is coded at 1 / map_factor resolution (one of :data:`MAP_FACTORS`).
    :param rows: latent rows per latent packet.
    :param map_packet: the coded label map.
    :param latent_packets: the coded latent stripes, top to bottom.
    :param enhancement: the enhancement layer (empty: none).
    :param spans: (start, end) byte offsets of the header, the map packet, each latent packet and, if
        there is one, the enhancement layer in the stream (filled by :func:`unpack`; empty for a
        stream built to be packed).
    """

    rate: str
    map_factor: int
    rows: int
    map_packet: bytes
    latent_packets: tuple[bytes, ...]
    enhancement: bytes = b""
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def base_spans(self) -> tuple[tuple[int, int], ...]:
        """The spans of the header, the map packet and the latent packets."""
        return self.spans[: 2 + len(self.latent_packets)]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 28:
            raise DecodeError("semantic_gan: truncated header")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def pack(packets: Packets) -> bytes:
    """The stream of ``packets`` (see the module docstring)."""
    if not 1 <= packets.rows <= 255 or packets.map_factor not in MAP_FACTORS:
        raise ValueError(f"cannot pack rows={packets.rows}, map_factor={packets.map_factor}")
    flag = int(bool(packets.enhancement))
    first = VERSION << 6 | RATES.index(packets.rate) << 4 | packets.map_factor.bit_length() - 1 << 1
    body = [packets.map_packet, *packets.latent_packets, packets.enhancement]
    lengths = body[: len(body) - 2 + flag]
    header = bytes([first | flag, packets.rows]) + b"".join(_varint(len(p)) for p in lengths)
    return header + b"".join(body)


def unpack(data: bytes, latent_rows: int) -> Packets:
    """Split a stream into its packets.

    :param latent_rows: ``ceil(H / 16)`` of the image the receiver expects.
    :raises DecodeError: wrong version or rate point, or lengths that do not fit the stream.
    """
    if (
        len(data) < 2
        or data[0] >> 6 != VERSION
        or (data[0] >> 4) & 3 > 2
        or (data[0] >> 1) & 7 >= len(MAP_FACTORS)
    ):
        raise DecodeError("semantic_gan: not a semantic_gan stream (bad header)")
    rows, flag = data[1], data[0] & 1
    if rows == 0:
        raise DecodeError("semantic_gan: zero latent rows per packet")
    count = -(-latent_rows // rows) + flag
    pos, lengths = 2, []
    for _ in range(count):
        n, pos = _read_varint(data, pos)
        lengths.append(n)
    spans = [(0, pos)]
    for n in lengths:
        spans.append((spans[-1][1], spans[-1][1] + n))
    spans.append((spans[-1][1], len(data)))
    if spans[-1][0] > len(data):
        raise DecodeError(f"semantic_gan: packet lengths exceed the {len(data)}-byte stream")
    return Packets(
        rate=RATES[(data[0] >> 4) & 3],
        map_factor=MAP_FACTORS[(data[0] >> 1) & 7],
        rows=rows,
        map_packet=data[slice(*spans[1])],
        latent_packets=tuple(data[slice(*s)] for s in spans[2 : len(spans) - flag]),
        enhancement=data[slice(*spans[-1])] if flag else b"",
        spans=tuple(spans),
    )
