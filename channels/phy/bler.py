"""Monte-Carlo block error rate of a :class:`~channels.phy.link.DigitalLink`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from channels.phy.link import DigitalLink

__all__ = ["BLERBudget", "compare_bler", "measure_bler"]


@dataclass(frozen=True)
class BLERBudget:
    """When to stop counting at one SNR point.

    A first probe of ``probe`` codewords; if every one fails the point is saturated (BLER taken as
    measured, ~1) and costs nothing more. Otherwise batches of ``batch`` codewords until ``min_errors``
    block errors or ``max_codewords`` codewords.
    """

    probe: int = 8
    batch: int = 100
    min_errors: int = 20
    max_codewords: int = 300


def measure_bler(
    link: DigitalLink,
    snr_db: float,
    budget: BLERBudget,
    rng: np.random.Generator,
    errors: int = 0,
    sent: int = 0,
) -> tuple[int, int]:
    """Send random one-codeword payloads at ``snr_db`` (Es/N0, dB) until ``budget`` says stop.

    :param errors: block errors already counted at this point (an earlier measurement continued).
    :param sent: codewords already sent at this point; 0 starts with the saturation probe.
    :return: (block errors flagged by the CRC, codewords sent), the earlier counts included.
    """
    (found,), sent = compare_bler([link], snr_db, budget, rng, [errors], sent)
    return found, sent


def compare_bler(
    links: Sequence[DigitalLink],
    snr_db: float,
    budget: BLERBudget,
    rng: np.random.Generator,
    errors: Sequence[int] | None = None,
    sent: int = 0,
) -> tuple[list[int], int]:
    """Block errors of several decoders on the same codewords and the same channel draws.

    ``links`` share MCS, code and channel and differ in their decoder (``fec.decoder``): the first
    link sends random one-codeword payloads at ``snr_db`` (:meth:`DigitalLink.received_llrs`) and
    every link decodes the same LLRs (:meth:`DigitalLink.decode_llrs`). Batches go on until every
    link has counted ``budget.min_errors`` block errors or ``budget.max_codewords`` codewords are
    sent; a fresh point (``sent`` 0) whose probe fails in every link and every codeword stops there.

    :param errors: block errors already counted at this point, one per link (default zeros).
    :param sent: codewords already sent at this point.
    :return: (block errors flagged by the CRC, one per link; codewords sent), earlier counts included.
    """
    counts = list(errors) if errors is not None else [0] * len(links)
    size = links[0].codeword_payload_bytes
    fresh = sent == 0
    batch = budget.probe if fresh else budget.batch
    while sent < budget.max_codewords and min(counts) < budget.min_errors:
        batch = min(batch, budget.max_codewords - sent)
        llr = links[0].received_llrs([rng.bytes(size) for _ in range(batch)], snr_db)
        for i, link in enumerate(links):
            counts[i] += int(np.count_nonzero(~link.decode_llrs(llr)[1]))
        sent += batch
        if fresh and sent == budget.probe and min(counts) == sent:
            break
        batch = budget.batch
    return counts, sent
