"""CRC-aided early termination decodes exactly what fixed-iteration decoding decodes."""

from __future__ import annotations

import numpy as np
import pytest
import sionna.phy

from channels import make_channel
from channels.phy import MCS, DigitalLink, FECConfig


@pytest.mark.parametrize("snr_db", [5.5, 6.5, 12.0])
def test_same_verdicts_and_bits_as_fixed_iterations(snr_db):
    payloads = [
        bytes(np.random.default_rng(i).integers(0, 256, 700, dtype=np.uint8)) for i in range(3)
    ]
    results = {}
    for early in (False, True):
        sionna.phy.config.seed = 11
        link = DigitalLink(
            MCS("16qam", 0.5), FECConfig(early_termination=early), make_channel("awgn", {})
        )
        results[early] = link.transmit(payloads, snr_db)
    for fixed, early in zip(results[False], results[True], strict=True):
        assert np.array_equal(fixed.codeword_ok, early.codeword_ok)
        assert fixed.data == early.data
    failures = sum(int((~r.codeword_ok).sum()) for r in results[True])
    if snr_db == 12.0:
        assert failures == 0
    if snr_db == 5.5:
        assert failures > 0  # the comparison also covers codewords that never pass
