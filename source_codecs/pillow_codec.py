"""Shared machinery for codecs that Pillow both writes and reads (JPEG, WebP, JPEG 2000, ...)."""

from __future__ import annotations

import io
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from source_codecs.base import SourceCodec, check_image
from source_codecs.errors import DecodeError
from source_codecs.rate_control import fit_to_budget

__all__ = ["PillowCodec"]


class PillowCodec(SourceCodec):
    """A Pillow image format driven by one rate knob.

    A subclass names its Pillow format and says, for an image, which knob settings exist (smallest
    stream first), which one the codec's own default quality is, and which Pillow save options a setting
    means. :meth:`encode` then either writes the default setting (``max_bytes=None``) or runs
    :func:`source_codecs.rate_control.fit_to_budget` over the settings.
    """

    pillow_format: ClassVar[str]

    @abstractmethod
    def knobs(self, image: np.ndarray) -> Sequence[Any]:
        """The rate knob's settings for ``image``, smallest stream first."""

    @abstractmethod
    def default_knob(self, image: np.ndarray) -> Any:
        """The setting used when no byte budget is given (from the codec's parameters)."""

    @abstractmethod
    def save_options(self, image: np.ndarray, knob: Any) -> dict[str, Any]:
        """Pillow ``Image.save`` keyword arguments for one knob setting."""

    def first_guess(self, image: np.ndarray, max_bytes: int) -> int | None:
        """Index into :meth:`knobs` where the search for ``max_bytes`` starts (None = bisect all)."""
        return None

    def write(self, image: np.ndarray, knob: Any) -> bytes:
        """The complete stream for one knob setting."""
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buffer, format=self.pillow_format, **self.save_options(image, knob)
        )
        return buffer.getvalue()

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """See :meth:`SourceCodec.encode`; ``labels`` are ignored."""
        check_image(image)
        if max_bytes is None:
            return self.write(image, self.default_knob(image))
        _, stream = fit_to_budget(
            lambda knob: self.write(image, knob),
            self.knobs(image),
            max_bytes,
            start=self.first_guess(image, max_bytes),
            codec=self.name,
        )
        return stream

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """See :meth:`SourceCodec.decode`. The declared size is checked before any pixel is decoded."""
        try:
            with Image.open(io.BytesIO(data), formats=[self.pillow_format]) as decoded:
                if decoded.size != (width, height):
                    raise DecodeError(
                        f"{self.name}: stream declares {decoded.size[0]}x{decoded.size[1]} pixels, "
                        f"expected {width}x{height}"
                    )
                return np.asarray(decoded.convert("RGB"))
        except DecodeError:
            raise
        except (
            Exception
        ) as exc:  # Pillow raises OSError, SyntaxError, ValueError, ... on bad streams
            raise DecodeError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
