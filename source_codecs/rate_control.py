"""Rate control: the highest-quality setting of a codec knob whose stream fits a byte budget.

A sweep rate-controls the same image to many budgets (one per MCS), and every budget's bisection
visits many of the same integer knob settings, so the streams are kept in :data:`KNOB_STREAMS`, a
bounded cache keyed by the codec's recipe, the image's content and the knob: each (image, setting) is
encoded once per process. An encoder is a deterministic function of those three, so a cached stream is
byte for byte the one a fresh encode writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np

from source_codecs.base import image_digest
from source_codecs.errors import BudgetTooSmall
from source_codecs.lru import LRUCache

__all__ = ["KNOB_STREAMS", "StreamCache", "fit_to_budget", "rate_points_to_try"]

K = TypeVar("K")


class StreamCache(LRUCache[bytes]):
    """Encoded streams by (codec identity, image content, knob), least recently used evicted first.

    :param max_bytes: bound on the bytes of all cached streams together.

    >>> cache, calls = StreamCache(max_bytes=1000), []
    >>> write = cache.memoized("codec", np.zeros((2, 2, 3), np.uint8), lambda q: calls.append(q) or bytes(q))
    >>> write(4) == write(4) == bytes(4), calls
    (True, [4])
    """

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        super().__init__(max_bytes, len)

    def memoized(
        self, codec: Hashable, image: np.ndarray, write: Callable[[K], bytes]
    ) -> Callable[[K], bytes]:
        """``write`` (knob -> stream of ``image``) answered from the cache where it can be.

        :param codec: the codec's identity (:attr:`CodecRecipe.key
            <source_codecs.recipe.CodecRecipe.key>`): equal only for codecs that write equal streams.
        :param image: uint8 [H, W, 3], hashed once here.
        """
        prefix = (codec, image_digest(image))
        return lambda knob: self.get((*prefix, knob), lambda: write(knob))


KNOB_STREAMS = StreamCache()
"""The process's cache of rate-controlled streams (:class:`StreamCache`, 64 MiB at most)."""


def fit_to_budget(
    encode: Callable[[K], bytes],
    knobs: Sequence[K],
    max_bytes: int,
    *,
    start: int | None = None,
    codec: str = "",
) -> tuple[K, bytes]:
    """The knob setting with the largest stream that fits ``max_bytes``, by bisection.

    ``knobs`` is ordered from the smallest stream to the largest (e.g. JPEG quality ``range(1, 96)``,
    HEVC ``qp`` from 51 down to 0). Stream size is assumed to grow along ``knobs``; where it does not
    quite (integer-knob codecs are not exactly monotone) the search still returns a setting that fits and
    whose next setting does not. Every candidate is encoded and measured: the returned stream is
    exactly the one that was checked.

    :param encode: knob value -> complete stream (every byte the decoder needs).
    :param knobs: the settings, smallest stream first.
    :param max_bytes: the budget in bytes.
    :param start: index of a first guess (e.g. a codec that targets a size directly). The search
        gallops from it (steps 1, 2, 4, ...) until it brackets the budget, then bisects; about
        ``2 log2(distance)`` encodes instead of ``log2(len(knobs))``.
    :param codec: the codec's name, for the error message.
    :return: (knob, stream) with ``len(stream) <= max_bytes``.
    :raises BudgetTooSmall: even ``knobs[0]`` gives more than ``max_bytes`` bytes.
    """
    if not knobs:
        raise ValueError("fit_to_budget needs at least one knob setting")
    streams: dict[int, bytes] = {}

    def fits(i: int) -> bool:
        if i not in streams:
            streams[i] = encode(knobs[i])
        return len(streams[i]) <= max_bytes

    # Invariant: knobs[lo] fits (or lo == -1), knobs[hi] does not (or hi == len(knobs)).
    lo, hi = _gallop(fits, len(knobs), start) if start is not None else (-1, len(knobs))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    if lo < 0:
        raise BudgetTooSmall(codec, max_bytes, len(streams[0]) if 0 in streams else None)
    return knobs[lo], streams[lo]


def _gallop(fits: Callable[[int], bool], n: int, start: int) -> tuple[int, int]:
    """A bracket (lo, hi) around the fit boundary, found by doubling steps away from ``start``."""
    start = min(max(start, 0), n - 1)
    step = 1
    if fits(start):
        lo = start
        while lo + step < n and fits(lo + step):
            lo, step = lo + step, 2 * step
        return lo, min(lo + step, n)
    hi = start
    while hi - step >= 0 and not fits(hi - step):
        hi, step = hi - step, 2 * step
    return max(hi - step, -1), hi


def rate_points_to_try(choice: str, points: Sequence[str]) -> list[str]:
    """The rate points a learned codec tries for a budget, largest first: all of ``points`` (ordered
    smallest first) for ``choice == "auto"``, else just ``choice``."""
    return list(reversed(points)) if choice == "auto" else [choice]
