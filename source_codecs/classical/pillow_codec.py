"""Shared machinery for codecs that Pillow both writes and reads (JPEG, WebP, JPEG 2000, ...)."""

from __future__ import annotations

import io
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from source_codecs.classical.knob_codec import KnobCodec
from source_codecs.errors import DecodeError

__all__ = ["PillowCodec"]


class PillowCodec(KnobCodec):
    """A Pillow image format driven by one rate knob (rate control: :class:`KnobCodec`).

    A subclass names its Pillow format and says, for an image, which knob settings exist (smallest
    stream first), which one the codec's own default quality is, and which Pillow save options a setting
    means.
    """

    pillow_format: ClassVar[str]

    @abstractmethod
    def save_options(self, image: np.ndarray, knob: Any) -> dict[str, Any]:
        """Pillow ``Image.save`` keyword arguments for one knob setting."""

    def write(self, image: np.ndarray, knob: Any) -> bytes:
        """The complete stream for one knob setting."""
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buffer, format=self.pillow_format, **self.save_options(image, knob)
        )
        return buffer.getvalue()

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
