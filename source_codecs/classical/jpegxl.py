"""JPEG XL (lossy VarDCT, bare codestream) through ``imagecodecs`` and libjxl."""

from __future__ import annotations

import imagecodecs
import numpy as np

from source_codecs.classical.knob_codec import KnobCodec
from source_codecs.errors import DecodeError
from source_codecs.params import Param
from source_codecs.registry import register_codec

__all__ = ["JPEGXL", "jxl_declared_size"]

_MAX_DISTANCE, _MIN_DISTANCE, _STEP = 25.0, 0.1, 0.98
# Butteraugli distances, largest (smallest stream) first: a 2% geometric grid, 274 settings.
_DISTANCES = tuple(
    round(_MAX_DISTANCE * _STEP**k, 4)
    for k in range(int(np.log(_MIN_DISTANCE / _MAX_DISTANCE) / np.log(_STEP)) + 1)
)
_SIGNATURE = b"\xff\x0a"  # bare codestream (the ISOBMFF container is not used)
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
_U32_BITS = (9, 13, 18, 30)


@register_codec("jpegxl")
class JPEGXL(KnobCodec):
    """Lossy JPEG XL; the rate knob is the Butteraugli distance, 25 (smallest) .. 0.1, in 2% steps.

    :param distance: distance used when no byte budget is given, 0.1..25 (default 1.0, ``cjxl``'s
        "visually lossless").
    :param effort: encoder effort 1 (fast) .. 9 (default 7, libjxl's).

    The stream is the bare JPEG XL codestream (no container boxes). libjxl's largest distance, 25,
    gives about 0.15-0.2 bpp on a 256x512 photo; lower budgets raise ``BudgetTooSmall``. The image
    size the stream declares is checked before any pixel is decoded.

    >>> from skimage.data import astronaut
    >>> from source_codecs import make_codec
    >>> codec = make_codec("jpegxl")
    >>> stream = codec.encode(astronaut()[:64, :96], max_bytes=1500)   # len(stream) <= 1500
    >>> codec.decode(stream, 64, 96).shape
    (64, 96, 3)
    """

    parameters = {
        "distance": Param(1.0, float, _MIN_DISTANCE, _MAX_DISTANCE, doc="Butteraugli distance"),
        "effort": Param(7, int, 1, 9, doc="encoder effort"),
    }

    def knobs(self, image: np.ndarray) -> tuple[float, ...]:
        """Distances from 25 down to 0.1."""
        return _DISTANCES

    def default_knob(self, image: np.ndarray) -> float:
        """The ``distance`` parameter."""
        return self.params["distance"]

    def write(self, image: np.ndarray, knob: float) -> bytes:
        """The codestream at distance ``knob``."""
        return bytes(
            imagecodecs.jpegxl_encode(
                np.ascontiguousarray(image),
                distance=knob,
                effort=self.params["effort"],
                usecontainer=False,
                numthreads=1,
            )
        )

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """See :meth:`SourceCodec.decode`."""
        declared = jxl_declared_size(data)
        if declared != (width, height):
            got = "no readable size header" if declared is None else "x".join(map(str, declared))
            raise DecodeError(f"jpegxl: stream declares {got}, expected {width}x{height}")
        try:
            image = imagecodecs.jpegxl_decode(data, numthreads=1)
        except Exception as exc:  # imagecodecs.JpegxlError and friends
            raise DecodeError(f"jpegxl: {type(exc).__name__}: {exc}") from exc
        if image.dtype != np.uint8 or image.shape != (height, width, 3):
            raise DecodeError(f"jpegxl: decoded {image.dtype} {list(image.shape)}, expected RGB")
        return image


def jxl_declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG XL codestream's SizeHeader (ISO/IEC 18181-1, D.2), or None.

    None when ``data`` does not start with the codestream signature ``FF 0A`` or ends too early.
    """
    if not data.startswith(_SIGNATURE):
        return None
    bits = _LsbBits(data[2:])
    try:
        small = bits.read(1)
        height = bits.read(5) * 8 + 8 if small else bits.u32() + 1
        ratio = bits.read(3)
        if ratio:
            num, den = _RATIOS[ratio]
            return height * num // den, height
        width = bits.read(5) * 8 + 8 if small else bits.u32() + 1
    except IndexError:
        return None
    return width, height


class _LsbBits:
    """Reads the least significant bit of each byte first, as JPEG XL headers are written."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, count: int) -> int:
        value = 0
        for i in range(count):
            byte = self.data[(self.pos + i) >> 3]  # IndexError past the end
            value |= ((byte >> ((self.pos + i) & 7)) & 1) << i
        self.pos += count
        return value

    def u32(self) -> int:
        """A SizeHeader dimension: a 2-bit selector, then 9, 13, 18 or 30 bits."""
        return self.read(_U32_BITS[self.read(2)])
