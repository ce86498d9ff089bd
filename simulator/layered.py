"""The layered path of one sweep point: base and enhancement layers on their own MCS.

The base layer (semantic map + base latent) rides a robust MCS, the enhancement layer a faster one,
inside the same budget of K channel uses per image: the base layer is coded first (the largest base
rate point that fits K uses at the base MCS), takes the channel uses its codewords need, and the
enhancement layer gets the payload the remaining uses carry at its MCS.

The receiver decodes what survived: failed base-layer codewords erase their bytes (a lost latent
packet is regenerated from the semantic map; a lost map packet is a failure and the fallback image is
shown), a failed enhancement codeword drops the enhancement (the base reconstruction is shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from channels.phy import DigitalLink
from simulator.data import Sample
from simulator.digital import Delivery, EncodeCache
from source_codecs import BudgetTooSmall
from source_codecs.layered import LayeredCodec, ReceivedLayers, erased_bytes

__all__ = ["LayeredStreams", "channel_uses_for", "deliver_layered", "encode_layered"]


@dataclass(frozen=True)
class LayeredStreams:
    """One image's two layers as sent; ``base`` None when not even the base fits."""

    base: bytes | None
    enhancement: bytes


def channel_uses_for(link: DigitalLink, num_bytes: int, limit: int) -> int:
    """The fewest channel uses (at most ``limit``) whose payload over ``link`` holds ``num_bytes``.

    :return: channel uses, or ``limit + 1`` if even ``limit`` uses are not enough.
    """
    low, high = 0, limit + 1
    while low < high:  # payload_bytes is non-decreasing in the channel uses
        mid = (low + high) // 2
        if mid <= limit and link.payload_bytes(mid) >= num_bytes:
            high = mid
        else:
            low = mid + 1
    return low


def encode_layered(
    codec: LayeredCodec,
    sample: Sample,
    base_link: DigitalLink,
    enhancement_link: DigitalLink,
    num_symbols: int,
) -> LayeredStreams:
    """Both layers of one image within ``num_symbols`` channel uses (see the module docstring)."""
    try:
        base = codec.encode_base(
            sample.image, base_link.payload_bytes(num_symbols), labels=sample.labels
        )
    except BudgetTooSmall:
        return LayeredStreams(None, b"")
    left = num_symbols - channel_uses_for(base_link, len(base), num_symbols)
    room = enhancement_link.payload_bytes(left)
    layer = codec.encode_enhancement(sample.image, base, room) if room > 0 else b""
    return LayeredStreams(base, layer)


def deliver_layered(
    samples: Sequence[Sample],
    codec_key: str,
    codec: LayeredCodec,
    links: tuple[DigitalLink, DigitalLink],
    num_symbols: int,
    snr_db: float,
    fallback: np.ndarray,
    cache: EncodeCache,
) -> list[Delivery]:
    """Send every image's layers at ``snr_db``, each layer's codewords of all images in one batch,
    and decode what arrived of all images in one call (:meth:`LayeredCodec.decode_layers_batch`: the
    semantic GAN's generator runs on batches of images on a GPU).

    :param links: (base layer link, enhancement layer link), same channel, their own MCS.
    :param fallback: uint8 [H, W, 3], shown when the semantic map is lost.
    :return: one :class:`Delivery` per sample; ``status`` ``ok`` (everything arrived), ``partial``
        (latent packets or the enhancement lost; the surviving layers decoded), ``crc_fail`` (the map
        or header lost), ``no_fit``.
    """
    base_link, enhancement_link = links
    key = (codec_key, base_link.mcs.name, enhancement_link.mcs.name, num_symbols)
    streams = [
        cache.get((*key, i), lambda s=s: encode_layered(codec, s, *links, num_symbols))
        for i, s in enumerate(samples)
    ]
    sent = [s for s in streams if s.base is not None]
    base_rx = iter(base_link.transmit([s.base for s in sent], snr_db))
    enhancement_rx = iter(enhancement_link.transmit([s.enhancement for s in sent], snr_db))
    height, width = fallback.shape[:2]
    arrived, outcomes = [], []
    for stream in sent:
        base, layer = next(base_rx), next(enhancement_rx)
        base_ok, layer_ok = bool(base.codeword_ok.all()), bool(layer.codeword_ok.all())
        erased = None
        if not base_ok:
            erased = erased_bytes(
                base.codeword_ok, base_link.codeword_payload_bytes, len(base.data)
            )
        arrived.append(ReceivedLayers(base.data, erased, layer.data if layer_ok else None))
        counts = (
            len(stream.base) + len(stream.enhancement),
            base.bit_errors + layer.bit_errors,
            base.num_bits + layer.num_bits,
            int((~base.codeword_ok).sum() + (~layer.codeword_ok).sum()),
            len(base.codeword_ok) + len(layer.codeword_ok),
        )
        outcomes.append((counts, base_ok and layer_ok))
    decoded = iter(zip(codec.decode_layers_batch(arrived, height, width), outcomes, strict=True))
    deliveries = []
    for stream in streams:
        if stream.base is None:
            deliveries.append(Delivery(fallback, None, 0, 0, 0, 0, "no_fit"))
            continue
        image, (counts, whole) = next(decoded)
        if image is None:  # the header or the semantic map was lost
            deliveries.append(Delivery(fallback, *counts, "crc_fail"))
        else:
            deliveries.append(Delivery(image, *counts, "ok" if whole else "partial"))
    return deliveries
