"""One image through a codec to check that it keeps the interface's promises (types and shapes).

Used on plug-in codecs before a run, so that a codec returning the wrong thing is one readable line at
configuration time rather than an error deep inside a sweep.
"""

from __future__ import annotations

import numpy as np
import torch

from source_codecs.analog import AnalogCodec
from source_codecs.base import CodecBase, SourceCodec
from source_codecs.errors import CodecConfigError

__all__ = ["check_codec", "check_output_image"]


def _describe(value: object) -> str:
    """``uint8 [64, 128, 3]`` for arrays and tensors, else the type's name."""
    if isinstance(value, np.ndarray | torch.Tensor):
        return f"{str(value.dtype).removeprefix('torch.')} {list(value.shape)}"
    return type(value).__name__


def check_output_image(label: str, what: str, image: object, shape: tuple[int, ...]) -> None:
    """:class:`CodecConfigError` ``"{label}: {what} returned float32 [..], expected uint8 [..]"``
    unless ``image`` is a uint8 array of ``shape``."""
    ok = isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == shape
    if not ok:
        raise CodecConfigError(
            f"{label}: {what} returned {_describe(image)}, expected uint8 {list(shape)}"
        )


def check_codec(
    codec: CodecBase,
    image: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    num_symbols: int,
    snr_db: float,
) -> None:
    """Encode and decode ``image`` once, checking every output's type and shape.

    A :class:`SourceCodec` is asked for its default quality (``max_bytes=None``): ``encode`` must give
    ``bytes`` and ``decode`` uint8 [H, W, 3]. An :class:`AnalogCodec` gets ``num_symbols`` symbols:
    ``encode_symbols`` must give complex [1, K] and ``decode_symbols`` uint8 [1, H, W, 3].

    :param codec: the codec to check.
    :param image: uint8 [H, W, 3], RGB.
    :param labels: uint8 [H, W] semantic map for codecs that need one.
    :param num_symbols: K, complex channel symbols per image (analog codecs).
    :param snr_db: the SNR the analog codec is told, dB.
    :raises CodecConfigError: one line naming the call and what it returned, or the exception it
        raised.
    """
    label = codec.name or type(codec).__qualname__
    height, width = image.shape[:2]
    step = "encode"
    try:
        if isinstance(codec, AnalogCodec):
            x = codec.encode_symbols(image[None], num_symbols, snr_db)
            ok = isinstance(x, torch.Tensor) and x.is_complex() and x.shape == (1, num_symbols)
            if not ok:
                raise CodecConfigError(
                    f"{label}: encode_symbols returned {_describe(x)}, expected complex "
                    f"[1, {num_symbols}]"
                )
            step = "decode_symbols"
            noise = torch.full((1, num_symbols), 10 ** (-snr_db / 10), dtype=torch.float32)
            out = codec.decode_symbols(x, noise, snr_db, height, width)
            check_output_image(label, "decode_symbols", out, (1, height, width, 3))
        elif isinstance(codec, SourceCodec):
            stream = codec.encode(image, None, labels=labels)
            if not isinstance(stream, bytes):
                raise CodecConfigError(
                    f"{label}: encode returned {_describe(stream)}, expected bytes"
                )
            step = "decode"
            check_output_image(
                label, "decode", codec.decode(stream, height, width), (height, width, 3)
            )
    except CodecConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plug-in's failure becomes one readable line
        raise CodecConfigError(
            f"{label}: {step} of a test image raised {type(exc).__name__}: {exc}"
        ) from None
