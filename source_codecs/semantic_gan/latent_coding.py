"""Entropy coding of the quantised latent in independently decodable stripes.

The latent symbols [C, h, w] are cut into stripes of ``rows`` latent rows (16 * rows image rows).
Each stripe is one range-coder packet of its own, coded under the trained per-channel categorical
model ``pmf`` [C, L] (symbols in channel-major order inside the stripe), so a lost packet erases a
band of the latent and nothing else.
"""

from __future__ import annotations

__all__ = ["decode_stripe", "encode_stripes", "stripe_bounds"]

from functools import partial

import numpy as np

from source_codecs.semantic_gan.range_coding import PacketDecoder, PacketEncoder, shortest_packet


def stripe_bounds(latent_rows: int, rows: int) -> list[tuple[int, int]]:
    """(first, end) latent rows of each stripe, ``ceil(latent_rows / rows)`` stripes."""
    return [(top, min(top + rows, latent_rows)) for top in range(0, latent_rows, rows)]


def encode_stripes(symbols: np.ndarray, pmf: np.ndarray, rows: int) -> list[bytes]:
    """One packet per stripe.

    :param symbols: int [C, h, w], values in 0..L-1.
    :param pmf: float64 [C, L], each channel's symbol probabilities.
    :param rows: latent rows per stripe.
    :return: ``ceil(h / rows)`` packets.
    """
    c, h, w = symbols.shape
    packets = []
    for top, end in stripe_bounds(h, rows):
        coder = PacketEncoder()
        probs = np.repeat(pmf, (end - top) * w, axis=0)
        stripe = symbols[:, top:end]
        coder.code_array(stripe.reshape(-1), probs)
        packets.append(
            shortest_packet(coder.to_bytes(), partial(_decodes_to, pmf=pmf, symbols=stripe))
        )
    return packets


def decode_stripe(packet: bytes, pmf: np.ndarray, rows: int, width: int) -> np.ndarray:
    """Symbols of one stripe: int32 [C, rows, width] (``pmf`` float64 [C, L])."""
    probs = np.repeat(pmf, rows * width, axis=0)
    return PacketDecoder(packet).code_array(probs).reshape(pmf.shape[0], rows, width)


def _decodes_to(packet: bytes, pmf: np.ndarray, symbols: np.ndarray) -> bool:
    """True if ``packet`` decodes to the stripe ``symbols`` (int [C, rows, w])."""
    return np.array_equal(decode_stripe(packet, pmf, *symbols.shape[1:]), symbols)
