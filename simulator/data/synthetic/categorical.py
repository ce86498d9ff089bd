"""A fixed discrete distribution, drawn like ``Generator.choice(options, p=weights)`` but cheaper."""

from __future__ import annotations

__all__ = ["Categorical"]

from bisect import bisect_right
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")
_ATOL = float(np.sqrt(np.finfo(np.float64).eps))  # as Generator.choice


class Categorical(Generic[T]):
    """``options`` drawn with probabilities ``weights``.

    :meth:`draw` consumes and returns exactly what ``rng.choice(options, p=weights)`` does (one
    ``rng.random()`` located in the normalised cumulative weights, ``searchsorted(side="right")``),
    without converting and checking the weights on every call.

    :param options: The values.
    :param weights: Their probabilities (non-negative, summing to 1).
    """

    def __init__(self, options: Sequence[T], weights: Sequence[float]) -> None:
        p = np.asarray(weights, dtype=np.float64)
        if len(p) != len(options) or np.any(p < 0) or abs(p.sum() - 1.0) > _ATOL:
            raise ValueError(f"weights {weights} are not probabilities of {len(options)} options")
        cdf = p.cumsum()
        cdf /= cdf[-1]
        self.options = tuple(options)
        self._cdf = cdf.tolist()

    def draw(self, rng: np.random.Generator) -> T:
        """One option, drawn from ``rng`` (consumed: one ``random()``)."""
        return self.options[bisect_right(self._cdf, rng.random())]
