"""Payloads <-> codeword-sized blocks of bits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["blocks_to_payloads", "codewords_per_payload", "payloads_to_blocks"]


def codewords_per_payload(lengths: Sequence[int], payload_bytes: int) -> list[int]:
    """Codewords needed by each payload of ``lengths`` bytes: ``ceil(length / payload_bytes)``."""
    return [-(-length // payload_bytes) for length in lengths]


def payloads_to_blocks(payloads: Sequence[bytes], payload_bytes: int) -> np.ndarray:
    """Cut each payload into codeword blocks, the last one zero-padded, and unpack them to bits.

    Byte ``i`` of a payload lands in that payload's block ``i // payload_bytes``; the blocks of all
    payloads are stacked in order.

    :return: [num_codewords, 8 * payload_bytes], `np.float32` bits (MSB first).
    """
    counts = codewords_per_payload([len(p) for p in payloads], payload_bytes)
    buffer = np.zeros((sum(counts), payload_bytes), dtype=np.uint8)
    flat = buffer.reshape(-1)
    offset = 0
    for payload, count in zip(payloads, counts, strict=True):
        flat[offset : offset + len(payload)] = np.frombuffer(payload, dtype=np.uint8)
        offset += count * payload_bytes
    return np.unpackbits(buffer, axis=1).astype(np.float32)


def blocks_to_payloads(bits: np.ndarray, lengths: Sequence[int]) -> list[bytes]:
    """Inverse of :func:`payloads_to_blocks`: pack [num_codewords, 8 * payload_bytes] bits (any
    dtype, nonzero = 1) and cut the stream back into payloads of ``lengths`` bytes (padding dropped)."""
    payload_bytes = bits.shape[1] // 8
    packed = np.packbits(np.asarray(bits) != 0, axis=1)
    counts = codewords_per_payload(lengths, payload_bytes)
    out, start = [], 0
    for length, count in zip(lengths, counts, strict=True):
        out.append(packed[start : start + count].reshape(-1)[:length].tobytes())
        start += count
    return out
