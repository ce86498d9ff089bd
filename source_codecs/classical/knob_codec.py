"""Shared machinery for codecs with one integer-indexed rate knob (quality, QP, distance, ...)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from source_codecs.base import SourceCodec, check_image
from source_codecs.rate_control import KNOB_STREAMS, fit_to_budget

__all__ = ["KnobCodec"]


class KnobCodec(SourceCodec):
    """A codec driven by one rate knob, rate-controlled to a byte budget by bisection.

    A subclass says which knob settings exist for an image (smallest stream first), which one the
    codec's own default is, and how to write the complete stream for one setting. :meth:`encode` then
    writes the default setting (``max_bytes=None``) or runs
    :func:`source_codecs.rate_control.fit_to_budget` over the settings and returns the largest stream
    that fits; :attr:`last_knob` records the setting it reached (of the encode that finished last,
    where several run at once: :attr:`~source_codecs.SourceCodec.concurrent_encodes`). The streams of the settings it
    tries are kept in :data:`~source_codecs.rate_control.KNOB_STREAMS` (the same image rate-controlled
    to another budget reuses them).
    """

    last_knob: Any = None

    @abstractmethod
    def knobs(self, image: np.ndarray) -> Sequence[Any]:
        """The rate knob's settings for ``image``, smallest stream first."""

    @abstractmethod
    def default_knob(self, image: np.ndarray) -> Any:
        """The setting used when no byte budget is given (from the codec's parameters)."""

    @abstractmethod
    def write(self, image: np.ndarray, knob: Any) -> bytes:
        """The complete stream (every byte the decoder needs) for one knob setting.

        :param image: uint8 [H, W, 3], RGB.
        :param knob: one of :meth:`knobs`.
        """

    def first_guess(self, image: np.ndarray, max_bytes: int) -> int | None:
        """Index into :meth:`knobs` where the search for ``max_bytes`` starts (None = bisect all)."""
        return None

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """See :meth:`SourceCodec.encode`; ``labels`` are ignored."""
        check_image(image)
        if max_bytes is None:
            self.last_knob = self.default_knob(image)
            return self.write(image, self.last_knob)
        self.last_knob, stream = fit_to_budget(
            KNOB_STREAMS.memoized(self.recipe.key, image, lambda knob: self.write(image, knob)),
            self.knobs(image),
            max_bytes,
            start=self.first_guess(image, max_bytes),
            codec=self.name,
        )
        return stream
