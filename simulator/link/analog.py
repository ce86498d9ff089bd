"""The analog path of one sweep point: images -> channel symbols -> channel -> images (deep JSCC).

No bits, FEC or CRC: the codec's K symbols per image go through the same channel model as the digital
schemes' codewords, the receiver zero-forces them with its CSI (perfect or estimated), and the decoder
turns them back into images. Channels that spend channel uses on overhead (OFDM pilots, cyclic prefix)
leave the codec fewer data symbols, exactly as they leave a digital scheme fewer codeword symbols.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from channels import noise_variance, transmit_equalized
from channels.base import channel_data_symbols
from simulator.data import Sample
from simulator.link.transport import Delivery, Plan, Transport
from source_codecs import AnalogCodec

__all__ = ["AnalogTransport"]

_MAX_BATCH = 8
"""Images per forward pass (bounds the decoder's activation memory)."""


class AnalogTransport(Transport):
    """An analog codec: K channel uses per image as channel symbols (see the module docstring)."""

    carries_bits = False
    codec: AnalogCodec

    def deliver(self, samples: Sequence[Sample], plan: Plan) -> list[Delivery]:
        """Send every image over the point's channel as K channel uses at its SNR (Es/N0 of a
        complex symbol, dB), :data:`_MAX_BATCH` images per forward pass on the simulator's device.

        :return: one :class:`Delivery` per sample (``num_bytes`` None: an analog scheme sends no
            bytes); all ``no_fit`` (the fallback image) when the channel leaves no data symbol (an
            OFDM slot is longer than K), as for a digital codec that cannot fit.
        """
        channel, snr_db = self.setup.channel(plan.point), plan.point.snr_db
        height, width = self.setup.shape
        data_symbols = channel_data_symbols(channel, plan.num_symbols)
        if data_symbols == 0:
            return [Delivery.no_fit(self.setup.fallback) for _ in samples]
        no = noise_variance(snr_db)
        out = []
        with torch.inference_mode():
            for start in range(0, len(samples), _MAX_BATCH):
                batch = np.stack([s.image for s in samples[start : start + _MAX_BATCH]])
                x = self.codec.encode_symbols(batch, data_symbols, snr_db)
                x_hat, no_eff = transmit_equalized(channel, x.to(self.setup.device), no)
                out.extend(
                    self.codec.decode_symbols(x_hat.cpu(), no_eff.cpu(), snr_db, height, width)
                )
        return [Delivery.error_free(np.ascontiguousarray(image)) for image in out]
