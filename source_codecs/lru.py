"""A least-recently-used cache bounded in bytes: what every memo of the codecs and the link uses.

Codecs and the link recompute the same deterministic things across sweep points (a stream per knob
setting, an analysis per image, a reconstruction per received stream); each keeps them in one of
these, keyed by what determines the value, so a cached value is the one a fresh computation gives.
"""

from __future__ import annotations

__all__ = ["LRUCache", "read_only"]

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")


class LRUCache(Generic[V]):
    """Values by key, the least recently used dropped first once their sizes exceed ``max_bytes``.

    :param max_bytes: bound on the summed sizes of the values kept.
    :param size: bytes of a value (e.g. ``len`` for bytes, ``lambda a: a.nbytes`` for arrays).

    Safe to use from several threads (codecs that encode images side by side share one): every
    read and write holds a lock, a computation of :meth:`get` does not.

    >>> cache, calls = LRUCache(10, len), []
    >>> [cache.get(k, lambda k=k: calls.append(k) or bytes(k)) for k in (4, 4, 8, 4)] == [bytes(4), bytes(4), bytes(8), bytes(4)]
    True
    >>> calls  # keeping 8 (12 > 10 bytes) evicted 4, so 4 was computed again
    [4, 8, 4]
    """

    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self._size_of = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()
            self._size = 0

    def peek(self, key: Hashable) -> V:
        """The value under ``key``, marked as recently used. :raises KeyError: not cached."""
        with self._lock:
            value = self._values[key]
            self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` under ``key`` (nothing if it alone exceeds the bound)."""
        size = self._size_of(value)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._values:
                self._size -= self._size_of(self._values.pop(key))
            self._values[key] = value
            self._size += size
            while self._size > self.max_bytes:
                _, old = self._values.popitem(last=False)
                self._size -= self._size_of(old)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value under ``key``, computed by ``compute()`` and kept if it is not cached."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        self.put(key, value)
        return value


def read_only(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only: a cached array is shared by every caller, so writing to it would
    change what later callers get; with this, such a write raises instead."""
    array.setflags(write=False)
    return array
