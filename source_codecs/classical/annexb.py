"""Annex B byte streams of H.265/HEVC and H.266/VVC: NAL units, and dropping the ones a decoder skips.

An Annex B stream is a sequence of NAL units, each preceded by a start code ``00 00 01`` (with a leading
zero byte ``00 00 00 01`` for parameter sets and the first unit of a picture). The NAL unit type sits
in the first header byte (HEVC: bits 1..6) or the second (VVC: bits 3..7). Access unit delimiters and
SEI messages (encoder version strings, picture hashes) carry nothing the decoder needs to rebuild the
picture; dropping them saves bytes that would otherwise be counted against the budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

__all__ = [
    "HEVC_DROPPABLE",
    "VVC_DROPPABLE",
    "drop_nal_units",
    "hevc_nal_type",
    "split_nal_units",
    "vvc_nal_type",
]

_START_CODE = re.compile(b"\x00\x00\x01")

HEVC_DROPPABLE = frozenset(
    {35, 39, 40}
)  # AUD_NUT, PREFIX_SEI_NUT, SUFFIX_SEI_NUT (H.265 Table 7-1)
VVC_DROPPABLE = frozenset({20, 23, 24})  # AUD_NUT, PREFIX_SEI_NUT, SUFFIX_SEI_NUT (H.266 Table 5)


def hevc_nal_type(unit: bytes) -> int:
    """``nal_unit_type`` of an HEVC NAL unit given without its start code (-1 if too short)."""
    return (unit[0] >> 1) & 0x3F if unit else -1


def vvc_nal_type(unit: bytes) -> int:
    """``nal_unit_type`` of a VVC NAL unit given without its start code (-1 if too short)."""
    return (unit[1] >> 3) & 0x1F if len(unit) >= 2 else -1


def split_nal_units(stream: bytes) -> list[tuple[bytes, bytes]]:
    """The (start code, NAL unit) pairs of an Annex B stream, in order.

    The start code is ``00 00 01`` or ``00 00 00 01`` as written; joining all pairs gives back the
    stream from its first start code on. Bytes before the first start code are not returned.
    """
    starts = [m.start() for m in _START_CODE.finditer(stream)]
    prefixes = [s - 1 if s > 0 and stream[s - 1] == 0 else s for s in starts]
    ends = prefixes[1:] + [len(stream)]
    return [
        (stream[prefix : start + 3], stream[start + 3 : end])
        for prefix, start, end in zip(prefixes, starts, ends, strict=True)
    ]


def drop_nal_units(stream: bytes, drop: Collection[int], nal_type: Callable[[bytes], int]) -> bytes:
    """``stream`` without the NAL units whose type is in ``drop``; the others are kept byte for byte.

    :param stream: an Annex B byte stream.
    :param drop: NAL unit types to remove, e.g. :data:`HEVC_DROPPABLE`.
    :param nal_type: :func:`hevc_nal_type` or :func:`vvc_nal_type`.
    """
    return b"".join(
        code + unit for code, unit in split_nal_units(stream) if nal_type(unit) not in drop
    )
