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
    size = link.codeword_payload_bytes
    fresh = sent == 0
    batch = budget.probe if fresh else budget.batch
    while sent < budget.max_codewords and errors < budget.min_errors:
        batch = min(batch, budget.max_codewords - sent)
        payloads = [rng.bytes(size) for _ in range(batch)]
        results = link.transmit(payloads, snr_db)
        errors += sum(int(not r.codeword_ok.all()) for r in results)
        sent += batch
        if fresh and sent == budget.probe and errors == sent:
            break
        batch = budget.batch
    return errors, sent
