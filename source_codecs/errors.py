"""Errors raised by source codecs and their registry."""

from __future__ import annotations

__all__ = ["BudgetTooSmall", "CodecConfigError", "DecodeError", "each_or_none"]

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class CodecConfigError(ValueError):
    """An unknown codec name or an invalid codec parameter; the message is one readable line."""


class BudgetTooSmall(Exception):
    """The codec cannot produce a stream of at most ``max_bytes`` bytes for this image.

    The caller records the point as a failure to fit; a codec never silently takes more bytes.

    :param codec: the codec's registered name.
    :param max_bytes: the byte budget that was asked for.
    :param min_bytes: the smallest stream the codec produced for this image, in bytes (None if unknown).
    """

    def __init__(self, codec: str, max_bytes: int, min_bytes: int | None = None) -> None:
        self.codec = codec
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        floor = f"; its smallest stream is {min_bytes} bytes" if min_bytes is not None else ""
        super().__init__(f"{codec}: cannot fit a budget of {max_bytes} bytes{floor}")


class DecodeError(Exception):
    """A stream that the decoder cannot turn into an image of the expected size (e.g. corrupted)."""


def each_or_none(decode: Callable[[T], R], items: Iterable[T]) -> list[R | None]:
    """``decode(item)`` for every item, None where it raises :class:`DecodeError` (one stream that
    does not decode never costs the others)."""
    results: list[R | None] = []
    for item in items:
        try:
            results.append(decode(item))
        except DecodeError:
            results.append(None)
    return results
