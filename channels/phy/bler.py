"""Monte-Carlo block error rate of a :class:`~channels.phy.link.DigitalLink`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from channels.phy.link import DigitalLink

__all__ = ["BLERBudget", "measure_bler"]


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
    link: DigitalLink, snr_db: float, budget: BLERBudget, rng: np.random.Generator
) -> tuple[int, int]:
    """Send random one-codeword payloads at ``snr_db`` (Es/N0, dB) until ``budget`` says stop.

    :return: (block errors flagged by the CRC, codewords sent).
    """
    size = link.codeword_payload_bytes
    errors = sent = 0
    batch = budget.probe
    while sent < budget.max_codewords:
        payloads = [rng.bytes(size) for _ in range(batch)]
        results = link.transmit(payloads, snr_db)
        errors += sum(int(not r.codeword_ok.all()) for r in results)
        sent += batch
        if (sent == budget.probe and errors == sent) or errors >= budget.min_errors:
            break
        batch = min(budget.batch, budget.max_codewords - sent)
    return errors, sent
