"""Marker segments of JPEG-family streams: dropping the ones no decoder needs.

JPEG (ITU T.81) and JPEG 2000 (ITU T.800) headers share one layout: a 2-byte start marker, then marker
segments, each a 2-byte marker and a 2-byte big-endian length that counts itself but not the marker,
up to the marker that starts the coded data. Informational segments (JFIF APP0, comments) are free
text for applications; dropping them leaves the decoded image unchanged and saves bytes that would
otherwise be counted against the budget.
"""

from __future__ import annotations

import struct
from collections.abc import Collection

__all__ = ["drop_header_segments"]


def drop_header_segments(stream: bytes, drop: Collection[int], data_start: int) -> bytes:
    """``stream`` without the header marker segments whose marker is in ``drop``.

    :param stream: a codestream that starts with its 2-byte start marker (JPEG SOI, J2K SOC).
    :param drop: markers to remove, e.g. ``{0xFFE0}`` (JFIF APP0) or ``{0xFF64}`` (J2K COM).
    :param data_start: the marker that ends the header (JPEG SOS ``0xFFDA``, J2K SOT ``0xFF90``);
        nothing from it on is touched.
    :return: the shortened stream (the same bytes if there was nothing to drop).
    """
    kept, pos = [stream[:2]], 2
    while pos + 4 <= len(stream):
        marker, length = struct.unpack(">HH", stream[pos : pos + 4])
        if marker == data_start or length < 2:
            break
        if marker not in drop:
            kept.append(stream[pos : pos + 2 + length])
        pos += 2 + length
    kept.append(stream[pos:])
    return b"".join(kept)
