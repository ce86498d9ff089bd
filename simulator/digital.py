"""The digital path of one sweep point: rate control to the link budget, transmission, reception.

Source codec -> bytes -> :class:`channels.phy.DigitalLink` (CRC, 5G LDPC, QAM, channel, APP demapping,
LDPC decoding, CRC check) -> bytes -> source decoder. A codeword that fails its CRC is detected, never
silently accepted; what the receiver then shows depends on ``link.on_error``:

- ``fallback`` (default, the literature's digital baseline): the image is lost and the receiver shows the
  fallback image (the data source's mean colour).
- ``decode``: the received bytes, errors included, go to the decoder anyway, isolated in a worker process
  with a time limit; an exception, hang, crash or malformed output becomes a counted decode failure and the
  fallback image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from channels.phy import DigitalLink
from source_codecs import BudgetTooSmall, SourceCodec, safe_decode

__all__ = ["Delivery", "EncodeCache", "deliver_digital", "deliver_reference"]


@dataclass(frozen=True)
class Delivery:
    """What the receiver shows for one image, and what it cost.

    ``status`` is one of ``ok`` (decoded from an error-free stream), ``decoded_with_errors``
    (``on_error: decode`` and the decoder returned an image), ``partial`` (a layered codec lost
    packets or its enhancement layer and decoded what survived), ``crc_fail`` (a codeword failed and the
    fallback is shown), ``decode_error`` (the decoder raised, hung, crashed or returned a malformed image),
    ``no_fit`` (the codec cannot go as low as the budget: nothing was sent).
    """

    image: np.ndarray  # uint8 [H, W, 3]
    num_bytes: int | None  # bytes sent; None when nothing fits
    bit_errors: int
    num_bits: int
    codeword_errors: int
    num_codewords: int
    status: str

    @property
    def decoded(self) -> bool:
        """True when the codec's decoder produced the image (not the fallback)."""
        return self.status in ("ok", "decoded_with_errors", "partial")


class EncodeCache:
    """Encoded streams by (codec row, image, byte budget): the same budget recurs across SNR points."""

    def __init__(self) -> None:
        self._streams: dict[tuple, Any] = {}

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The value cached under ``key``, computed by ``compute()`` the first time."""
        if key not in self._streams:
            self._streams[key] = compute()
        return self._streams[key]

    def encode(
        self,
        codec_key: str,
        codec: SourceCodec,
        index: int,
        image: np.ndarray,
        labels: np.ndarray | None,
        budget: int,
    ) -> bytes | None:
        """The codec's stream for ``image`` within ``budget`` bytes, or None if it cannot fit."""

        def compute() -> bytes | None:
            try:
                return codec.encode(image, budget, labels=labels)
            except BudgetTooSmall:
                return None

        return self.get((codec_key, index, budget), compute)


def deliver_reference(image: np.ndarray, codec: SourceCodec) -> Delivery:
    """A reference codec (``original``): its stream reaches the receiver without error."""
    height, width = image.shape[:2]
    stream = codec.encode(image, None)
    decoded = codec.decode(stream, height, width)
    return Delivery(decoded, len(stream), 0, 0, 0, 0, "ok")


def deliver_digital(
    streams: Sequence[bytes | None],
    codec_name: str,
    codec_params: dict,
    codec: SourceCodec,
    link: DigitalLink,
    snr_db: float,
    shape: tuple[int, int],
    fallback: np.ndarray,
    on_error: str,
    decode_timeout_s: float = 20.0,
) -> list[Delivery]:
    """Send every image's stream over ``link`` at ``snr_db`` in one batch and decode what arrives:
    the streams that arrived intact in one call (:meth:`SourceCodec.decode_batch`: a learned codec
    runs its network on batches of images on a GPU), the others each in isolation.

    :param streams: one stream per image (None: the codec could not fit the budget).
    :param shape: (H, W) of the images.
    :param fallback: uint8 [H, W, 3], shown for lost images.
    """
    height, width = shape
    sent = [s for s in streams if s is not None]
    received = iter(link.transmit(sent, snr_db))
    deliveries: list[Delivery] = []
    intact: list[int] = []  # images whose stream arrived error-free: decoded in one batch below
    for stream in streams:
        if stream is None:
            deliveries.append(Delivery(fallback, None, 0, 0, 0, 0, "no_fit"))
            continue
        rx = next(received)
        errors = int(np.count_nonzero(~rx.codeword_ok))
        stats = (len(stream), rx.bit_errors, rx.num_bits, errors, rx.num_codewords)
        if errors == 0 and rx.data == stream:
            intact.append(len(deliveries))
            image, status = fallback, "ok"  # the decoded image replaces it below
        elif errors and on_error == "fallback":
            image, status = fallback, "crc_fail"
        else:
            # Errors the CRC missed, or on_error: decode -> the decoder may meet a corrupted stream.
            outcome = safe_decode(
                codec_name, codec_params, rx.data, height, width, decode_timeout_s
            )
            if outcome.image is None:
                image, status = fallback, "decode_error"
            else:
                image, status = outcome.image, ("decoded_with_errors" if errors else "ok")
        deliveries.append(Delivery(image, *stats, status))
    decoded = codec.decode_batch([streams[i] for i in intact], height, width)
    for i, image in zip(intact, decoded, strict=True):
        change = {"status": "decode_error"} if image is None else {"image": image}
        deliveries[i] = replace(deliveries[i], **change)
    return deliveries
