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
from simulator.digital import Delivery
from source_codecs import AnalogCodec

__all__ = ["deliver_analog"]

_MAX_BATCH = 8
"""Images per forward pass (bounds the decoder's activation memory)."""


def deliver_analog(
    images: Sequence[np.ndarray],
    codec: AnalogCodec,
    channel: torch.nn.Module,
    num_symbols: int,
    snr_db: float,
    device: torch.device,
    fallback: np.ndarray,
) -> list[Delivery]:
    """Send every image over ``channel`` as ``num_symbols`` channel uses at ``snr_db``.

    :param images: uint8 [H, W, 3] each, all the same size.
    :param num_symbols: K, complex channel uses per image.
    :param snr_db: Es/N0 of a complex symbol, dB.
    :param device: where the channel runs (Sionna's device).
    :param fallback: uint8 [H, W, 3], shown when the channel leaves no data symbol (an OFDM slot is
        longer than K): status ``no_fit``, as for a digital codec that cannot fit.
    :return: one :class:`Delivery` per image (``num_bytes`` None: an analog scheme sends no bytes).
    """
    height, width = images[0].shape[:2]
    data_symbols = channel_data_symbols(channel, num_symbols)
    if data_symbols == 0:
        return [Delivery(fallback, None, 0, 0, 0, 0, "no_fit") for _ in images]
    no = noise_variance(snr_db)
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), _MAX_BATCH):
            batch = np.stack(images[start : start + _MAX_BATCH])
            x = codec.encode_symbols(batch, data_symbols, snr_db)
            x_hat, no_eff = transmit_equalized(channel, x.to(device), no)
            out.extend(codec.decode_symbols(x_hat.cpu(), no_eff.cpu(), snr_db, height, width))
    return [Delivery(np.ascontiguousarray(image), None, 0, 0, 0, 0, "ok") for image in out]
