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
from functools import partial

from channels.phy import MCS, DigitalLink
from simulator.data import Sample
from simulator.link.sweep import SweepPoint
from simulator.link.transport import (
    Delivery,
    Plan,
    Transport,
    encode_threads,
    received_key,
)
from source_codecs import BudgetTooSmall
from source_codecs.layered import LayeredCodec, ReceivedLayers, erased_bytes

__all__ = ["LayeredStreams", "LayeredTransport", "channel_uses_for", "encode_layered"]


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


class LayeredTransport(Transport):
    """A layered codec: the base layer on ``link.base_mcs``, the enhancement on ``link.mcs``, inside
    the same K channel uses (see the module docstring)."""

    codec: LayeredCodec

    def plan(self, point: SweepPoint, mcs: MCS | None = None) -> Plan:
        """The base layer on ``link.base_mcs``, the enhancement on ``mcs`` or ``link.mcs``."""
        links = (
            self.setup.link(point, "base"),
            self.setup.link(point, "enhancement", mcs),
        )
        return Plan(point, self.setup.num_symbols(point), links)

    def deliver(self, samples: Sequence[Sample], plan: Plan) -> list[Delivery]:
        """Send every image's layers, each layer's codewords of all images in one batch, and decode
        what arrived of all images in one call (:meth:`LayeredCodec.decode_layers_batch`: the
        semantic GAN's generator runs on batches of images on a GPU).

        :return: one :class:`Delivery` per sample; ``status`` ``ok`` (everything arrived), ``partial``
            (latent packets or the enhancement lost; the surviving layers decoded), ``crc_fail`` (the
            map or header lost), ``no_fit``.
        """
        point, (base_link, enhancement_link), k = plan.point, plan.links, plan.num_symbols
        key = (point.codec.display_name, base_link.mcs.name, enhancement_link.mcs.name, k)
        streams = self.setup.encodes.get_all(
            [(*key, i) for i in range(len(samples))],
            [partial(encode_layered, self.codec, s, *plan.links, k) for s in samples],
            encode_threads(self.codec),
        )
        sent = [s for s in streams if s.base is not None]
        base_rx = base_link.transmit([s.base for s in sent], point.snr_db)
        enhancement_rx = enhancement_link.transmit([s.enhancement for s in sent], point.snr_db)
        arrived = []
        for base, layer in zip(base_rx, enhancement_rx, strict=True):
            erased = None
            if not base.codeword_ok.all():
                erased = erased_bytes(
                    base.codeword_ok, base_link.codeword_payload_bytes, len(base.data)
                )
            layer_ok = bool(layer.codeword_ok.all())
            arrived.append(ReceivedLayers(base.data, erased, layer.data if layer_ok else None))
        height, width = self.setup.shape
        indices = [i for i, s in enumerate(streams) if s.base is not None]
        keys = [
            (key, i, received_key(a.base, a.base_erased, a.enhancement))
            for i, a in zip(indices, arrived, strict=True)
        ]
        images = self.setup.decodes.decode(
            keys,
            lambda todo: self.codec.decode_layers_batch([arrived[j] for j in todo], height, width),
        )
        decoded = iter(zip(sent, base_rx, enhancement_rx, images, strict=True))
        deliveries = []
        for stream in streams:
            if stream.base is None:
                deliveries.append(Delivery.no_fit(self.setup.fallback))
                continue
            _, base, layer, image = next(decoded)
            num_bytes, results = len(stream.base) + len(stream.enhancement), (base, layer)
            if image is None:  # the header or the semantic map was lost
                deliveries.append(Delivery.lost(self.setup.fallback, num_bytes, results))
            else:
                whole = bool(base.codeword_ok.all()) and bool(layer.codeword_ok.all())
                status = "ok" if whole else "partial"
                deliveries.append(Delivery.received(image, num_bytes, results, status))
        return deliveries
