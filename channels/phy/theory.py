"""Closed-form bit error rates of uncoded Gray QPSK and 16-QAM, for checking the simulated link.

SNR is Es/N0 of a complex symbol in dB; detection is coherent with perfect CSI. Rayleigh means flat
fading with E|h|^2 = 1, averaged over the fading.
"""

from __future__ import annotations

import math

from scipy.stats import norm

__all__ = ["uncoded_ber"]


def _rayleigh_q(beta: float) -> float:
    """E[Q(sqrt(2 beta |h|^2))] for |h|^2 ~ Exp(1)."""
    return 0.5 * (1 - math.sqrt(beta / (1 + beta)))


def uncoded_ber(modulation: str, channel: str, snr_db: float) -> float:
    """Bit error rate of uncoded Gray ``qpsk`` or ``16qam`` over ``awgn`` or ``rayleigh`` at ``snr_db``.

    QPSK is two BPSK branches with Eb/N0 = Es/N0 / 2. 16-QAM is two Gray 4-PAM branches with levels
    +-a, +-3a (a^2 = Es/10): Pb = (3 Q(a/s) + 2 Q(3a/s) - Q(5a/s)) / 4 with (a/s)^2 = Es/(5 N0).

    >>> round(uncoded_ber("qpsk", "awgn", 7.0), 5)
    0.01259
    """
    g = 10 ** (snr_db / 10)
    if modulation not in ("qpsk", "16qam") or channel not in ("awgn", "rayleigh"):
        raise ValueError(f"no closed form for {modulation} over {channel}")
    if modulation == "qpsk":
        return float(norm.sf(math.sqrt(g))) if channel == "awgn" else _rayleigh_q(g / 2)
    if channel == "awgn":
        terms = [float(norm.sf(math.sqrt(c * g / 5))) for c in (1, 9, 25)]
    else:
        terms = [_rayleigh_q(c * g / 10) for c in (1, 9, 25)]
    return (3 * terms[0] + 2 * terms[1] - terms[2]) / 4
