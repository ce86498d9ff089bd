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

from collections.abc import Sequence

import numpy as np

from channels.phy import MCS
from simulator.data import Sample
from simulator.link.sweep import SweepPoint
from simulator.link.transport import Delivery, Plan, Transport, received_key
from source_codecs import SourceCodec, shared_decoder

__all__ = ["DigitalTransport", "ReferenceTransport"]


class ReferenceTransport(Transport):
    """A reference codec (``original``): its stream reaches the receiver without error."""

    carries_bits = False

    def deliver(self, samples: Sequence[Sample], plan: Plan) -> list[Delivery]:
        height, width = self.setup.shape
        deliveries = []
        for sample in samples:
            stream = self.codec.encode(sample.image, None)
            image = self.codec.decode(stream, height, width)
            deliveries.append(Delivery.error_free(image, len(stream)))
        return deliveries


class DigitalTransport(Transport):
    """A single-layer digital codec: rate-controlled to the budget of one link, sent in one batch.

    :cvar decode_timeout_s: the time limit of an isolated decode of a damaged stream, s.
    """

    codec: SourceCodec
    decode_timeout_s: float = 20.0

    def plan(self, point: SweepPoint, mcs: MCS | None = None) -> Plan:
        return Plan(point, self.setup.num_symbols(point), (self.setup.link(point, mcs=mcs),))

    def deliver(self, samples: Sequence[Sample], plan: Plan) -> list[Delivery]:
        """Send every image's stream over the plan's link in one batch and decode what arrives: the
        streams that arrived intact in one call (:meth:`SourceCodec.decode_batch`: a learned codec
        runs its network on batches of images on a GPU), the others each in isolation."""
        point, (link,) = plan.point, plan.links
        budget = plan.budget
        streams = self.setup.encodes.encode_all(
            point.codec.display_name, self.codec, samples, budget
        )
        height, width = self.setup.shape
        fallback = self.setup.fallback
        received = iter(link.transmit([s for s in streams if s is not None], point.snr_db))
        deliveries: list[Delivery] = []
        intact: list[int] = []  # images whose stream arrived error-free: decoded in one batch below
        for stream in streams:
            if stream is None:
                deliveries.append(Delivery.no_fit(fallback))
                continue
            rx = next(received)
            errors = int(np.count_nonzero(~rx.codeword_ok))
            if errors == 0 and rx.data == stream:
                intact.append(len(deliveries))
                image, status = fallback, "ok"  # the decoded image replaces it below
            elif errors and self.setup.on_error == "fallback":
                image, status = fallback, "crc_fail"
            else:
                # Errors the CRC missed, or on_error: decode -> the decoder may meet a corrupted stream.
                outcome = shared_decoder().decode_with(
                    self.codec, rx.data, height, width, self.decode_timeout_s
                )
                if outcome.image is None:
                    image, status = fallback, "decode_error"
                else:
                    image, status = outcome.image, ("decoded_with_errors" if errors else "ok")
            deliveries.append(Delivery.received(image, len(stream), [rx], status))
        name = point.codec.display_name
        keys = [(name, i, received_key(streams[i])) for i in intact]
        decoded = self.setup.decodes.decode(
            keys,
            lambda todo: self.codec.decode_batch([streams[intact[j]] for j in todo], height, width),
        )
        for i, image in zip(intact, decoded, strict=True):
            deliveries[i] = deliveries[i].with_image(image)
        return deliveries
