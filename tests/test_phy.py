"""Physical layer: MCS, layout, DigitalLink against closed-form BER, CRC behaviour, BLER tables, auto_mcs."""

import math

import numpy as np
import pytest
import sionna.phy
import torch
from sionna.phy.mapping import Constellation

from channels import make_channel
from channels.phy import MCS, CodewordLayout, DigitalLink, FECConfig
from channels.phy.adaptation import auto_mcs, codeword_target
from channels.phy.bler import BLERBudget
from channels.phy.bler_table import BLERTable
from channels.phy.build_bler_tables import parse_mcs
from channels.phy.measure_tables import (
    CODED_MCS,
    TABLE_DIR,
    add_to_table,
    bler_table,
    candidate_mcs,
    deepen_table,
)
from channels.phy.theory import uncoded_ber

UNCODED = FECConfig(code="none")
CODED = FECConfig()


@pytest.fixture(autouse=True)
def _seed():
    sionna.phy.config.seed = 99


def _random_payloads(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.bytes(n) for n in lengths]


def _ber(modulation, channel, snr_db, bits=60_000):
    link = DigitalLink(MCS(modulation, 1.0), UNCODED, make_channel(channel))
    size = math.ceil(bits / 8 / link.codeword_payload_bytes) * link.codeword_payload_bytes
    [result] = link.transmit(_random_payloads([size]), snr_db)
    return result.bit_errors / result.num_bits, result.num_bits


@pytest.mark.parametrize(
    ("modulation", "channel", "snrs"),
    [
        ("qpsk", "awgn", (0.0, 4.0, 7.0)),
        ("16qam", "awgn", (6.0, 10.0, 13.0)),
        ("qpsk", "rayleigh", (0.0, 8.0, 16.0)),
        ("16qam", "rayleigh", (8.0, 14.0, 20.0)),
    ],
)
def test_uncoded_ber_matches_closed_form(modulation, channel, snrs):
    for snr in snrs:
        measured, bits = _ber(modulation, channel, snr)
        expected = uncoded_ber(modulation, channel, snr)
        # 5 sigma of a binomial (bits within a symbol are correlated: factor 2) + 3 % model slack
        # (the APP LLR sign of 16-QAM's inner bit is not exactly the nearest-point decision).
        tolerance = 5 * math.sqrt(2 * expected * (1 - expected) / bits) + 0.03 * expected
        assert abs(measured - expected) < tolerance, (modulation, channel, snr, measured, expected)


def test_mcs_names_and_validation():
    assert MCS("16qam", 0.5).name == "16qam r=0.50"
    assert MCS("qpsk", 1.0).name == "qpsk uncoded"
    assert MCS("256qam", 0.75).bits_per_symbol == 8
    with pytest.raises(ValueError, match="unknown modulation"):
        MCS("8psk", 0.5)
    with pytest.raises(ValueError, match="code_rate"):
        MCS("qpsk", 1.5)
    assert MCS("bpsk", 0.21, repetitions=4).name == "bpsk r=0.21 x4"
    with pytest.raises(ValueError, match="repetitions"):
        MCS("bpsk", 0.21, repetitions=0)
    assert parse_mcs("bpsk:0.21:2") == MCS("bpsk", 0.21, 2)
    assert parse_mcs("qpsk:0.5") == MCS("qpsk", 0.5)


def test_bpsk_is_a_real_unit_energy_constellation():
    points = Constellation(*MCS("bpsk", 0.5).constellation).points
    assert torch.allclose(points, torch.tensor([1.0 + 0j, -1.0 + 0j]))


def test_codeword_layout():
    qpsk = CodewordLayout.of(MCS("qpsk", 0.5), CODED)
    assert (qpsk.info_bits, qpsk.symbols_per_codeword, qpsk.payload_bytes) == (512, 512, 61)
    qam64 = CodewordLayout.of(MCS("64qam", 5 / 6), CODED)
    assert qam64.coded_bits == 1026 and qam64.symbols_per_codeword == 171  # whole symbols
    assert qam64.info_bits / qam64.coded_bits <= 5 / 6
    uncoded = CodewordLayout.of(MCS("16qam", 1.0), UNCODED)
    assert not uncoded.coded and uncoded.payload_bytes == (1024 - 24) // 8
    with pytest.raises(ValueError, match="5G LDPC cannot code"):
        CodewordLayout.of(MCS("qpsk", 0.1), CODED)
    with pytest.raises(ValueError, match="needs code_rate 1.0"):
        CodewordLayout.of(MCS("qpsk", 0.5), UNCODED)


def test_repetitions_multiply_the_symbols_of_a_codeword_not_its_payload():
    once = CodewordLayout.of(MCS("bpsk", 0.21), CODED)
    four = CodewordLayout.of(MCS("bpsk", 0.21, repetitions=4), CODED)
    assert four.symbols_per_codeword == 4 * once.symbols_per_codeword == 4 * four.symbols_per_copy
    assert (four.info_bits, four.payload_bytes) == (once.info_bits, once.payload_bytes)
    assert four.payload_bits_per_symbol == pytest.approx(once.payload_bits_per_symbol / 4)
    link = DigitalLink(MCS("bpsk", 0.21, repetitions=2), CODED, make_channel("awgn"))
    assert link.payload_bytes(2 * 1024 * 3 + 2047) == 3 * once.payload_bytes


def test_repetitions_combine_the_copies_llrs():
    """At -8 dB (AWGN) r=0.21 loses nearly every codeword; sent twice, the combined LLRs carry 3 dB
    more and every codeword passes. A receiver that decoded one copy would fail as often as r=0.21."""
    payloads = _random_payloads([24 * 24], seed=5)
    failures = {}
    for copies in (1, 2):
        sionna.phy.config.seed = 3
        link = DigitalLink(MCS("bpsk", 0.21, repetitions=copies), CODED, make_channel("awgn"))
        [result] = link.transmit(payloads, -8.0)
        failures[copies] = int((~result.codeword_ok).sum())
        if copies == 2:
            assert result.data == payloads[0]
    assert failures == {1: failures[1], 2: 0} and failures[1] >= 20


def test_payload_budget():
    link = DigitalLink(MCS("16qam", 0.5), CODED, make_channel("awgn"))
    assert link.symbols_per_codeword == 256 and link.codeword_payload_bytes == 61
    assert link.payload_bytes(255) == 0
    assert link.payload_bytes(256 * 10 + 100) == 610


def test_ldpc_high_snr_round_trip_of_any_length():
    link = DigitalLink(MCS("16qam", 0.5), CODED, make_channel("rayleigh"))
    lengths = [0, 1, 61, 62, 333]
    payloads = _random_payloads(lengths)
    results = link.transmit(payloads, 30.0)
    for payload, result in zip(payloads, results, strict=True):
        assert result.data == payload
        assert result.num_codewords == math.ceil(len(payload) / 61)
        assert result.codeword_ok.all() and result.bit_errors == 0
        assert result.num_bits == 8 * len(payload)


def test_ldpc_low_snr_failures_are_flagged():
    link = DigitalLink(MCS("16qam", 0.5), CODED, make_channel("awgn"))
    [payload] = _random_payloads([61 * 12])
    [result] = link.transmit([payload], -3.0)
    assert not result.codeword_ok.any()
    assert result.bit_errors > 0 and len(result.data) == len(payload)
    for i in range(result.num_codewords):  # every failed codeword's bytes are wrong
        assert result.data[61 * i : 61 * (i + 1)] != payload[61 * i : 61 * (i + 1)]


class _FadeCodeword(torch.nn.Module):
    """AWGN, but the symbols of the second codeword of each payload are almost erased."""

    def __init__(self, symbols_per_codeword: int) -> None:
        super().__init__()
        self.spc = symbols_per_codeword

    def forward(self, x, no):
        h = torch.ones_like(x)
        h[:, self.spc : 2 * self.spc] = 1e-3
        noise = torch.complex(torch.randn_like(x.real), torch.randn_like(x.real))
        return h * x + noise * math.sqrt(no / 2), h


@pytest.mark.parametrize("coded", [True, False])
def test_bytes_live_in_codeword_i_over_payload_bytes(coded):
    mcs, fec = (MCS("qpsk", 0.5), CODED) if coded else (MCS("qpsk", 1.0), UNCODED)
    probe = DigitalLink(mcs, fec, make_channel("awgn"))
    link = DigitalLink(mcs, fec, _FadeCodeword(probe.symbols_per_codeword))
    size = link.codeword_payload_bytes
    payloads = _random_payloads([3 * size, 2 * size + 5], seed=3)
    for payload, result in zip(payloads, link.transmit(payloads, 15.0), strict=True):
        assert result.codeword_ok.tolist() == [True, False] + [True] * (result.num_codewords - 2)
        for i, ok in enumerate(result.codeword_ok):
            same = result.data[i * size : (i + 1) * size] == payload[i * size : (i + 1) * size]
            assert same == ok  # CRC verdict agrees with the bytes: no silent error


def test_transmission_is_reproducible_with_the_seed():
    link = DigitalLink(MCS("qpsk", 0.5), CODED, make_channel("rayleigh"))
    payloads = _random_payloads([200])
    outcomes = []
    for _ in range(2):
        sionna.phy.config.seed = 5
        outcomes.append(link.transmit(payloads, 1.0)[0])
    assert outcomes[0].data == outcomes[1].data
    assert np.array_equal(outcomes[0].codeword_ok, outcomes[1].codeword_ok)


def test_bler_table_interpolation_is_conservative():
    table = BLERTable(
        "x",
        "awgn",
        [0.0, 1.0, 2.0, 3.0, 4.0],
        errors={"m": [0, 50, 5, 8, 0]},
        codewords={"m": [0, 100, 100, 100, 0]},
    )
    assert table.bler("m", -1.0) == 1.0  # below the grid
    assert table.bler("m", 0.0) == 1.0  # not simulated below the first point: known to fail
    assert table.bler("m", 2.0) == pytest.approx(0.08)  # raised to the worse value at 3 dB
    assert table.bler("m", 1.5) == pytest.approx(10 ** ((math.log10(0.5) + math.log10(0.08)) / 2))
    # 4 dB was not simulated and 3 dB had errors: held at 3 dB's value, above the grid too
    assert table.bler("m", 4.0) == table.bler("m", 9.0) == pytest.approx(0.08)


def test_bler_table_reads_an_error_free_point_as_its_upper_bound():
    table = BLERTable(
        "x", "awgn", [0.0, 1.0, 2.0], errors={"m": [40, 0, 0]}, codewords={"m": [100, 300, 0]}
    )
    assert table.bler("m", 1.0) == pytest.approx(0.01)  # 0 errors in 300: <= 3/300 at 95 %
    assert table.bler("m", 0.5) == pytest.approx(10 ** ((math.log10(0.4) + math.log10(0.01)) / 2))
    assert 0.0 < table.bler("m", 1.5) < 0.01 and table.bler("m", 2.0) == 0.0


def test_bler_table_holds_the_last_point_of_a_row_without_a_clean_one():
    # A grid extended for block fading, or a deepening interrupted after the extension: the points
    # above the last simulated one were never measured, and that one still had errors.
    table = BLERTable(
        "x", "awgn", [0.0, 1.0, 2.0, 3.0], errors={"m": [40, 10, 0, 0]},
        codewords={"m": [100, 1000, 0, 0]},
    )  # fmt: skip
    assert table.bler("m", 1.0) == table.bler("m", 3.0) == pytest.approx(0.01)


@pytest.mark.parametrize("family", ["awgn", "rayleigh"])
def test_auto_mcs_with_a_block_bounds_the_block_loss(family):
    table = bler_table(CODED, family)
    changed = 0
    for snr in np.arange(-4.0, 30.0, 0.5):
        single, block = auto_mcs(snr, CODED, family), auto_mcs(snr, CODED, family, 0.1, 16384)
        rate = CodewordLayout.of(block, CODED).payload_bits_per_symbol
        assert rate <= CodewordLayout.of(single, CODED).payload_bits_per_symbol
        changed += block != single
        if block != CODED_MCS[0]:  # met, not the fallback: the whole block survives w.p. >= 0.9
            n = 16384 // CodewordLayout.of(block, CODED).symbols_per_codeword
            assert (1 - table.bler(block.name, snr)) ** n >= 0.9 - 1e-9
    assert changed > 0
    assert codeword_target(0.1, 1) == pytest.approx(0.1)
    assert codeword_target(0.1, 40) == pytest.approx(1 - 0.9 ** (1 / 40))


@pytest.mark.parametrize("family", ["awgn", "rayleigh"])
def test_auto_mcs_is_monotone_and_robust_at_low_snr(family):
    assert (TABLE_DIR / f"{CODED.key}_{family}.json").is_file()
    picks = [auto_mcs(snr, CODED, family) for snr in np.arange(-10.0, 40.0, 0.5)]
    rates = [CodewordLayout.of(m, CODED).payload_bits_per_symbol for m in picks]
    assert all(a <= b for a, b in zip(rates, rates[1:], strict=False))
    assert picks[0] == CODED_MCS[0] == candidate_mcs(CODED)[0]
    assert rates[-1] > 4  # a high-order MCS at 39.5 dB
    if family == "awgn":  # fading needs more SNR for the same MCS
        fading = [auto_mcs(s, CODED, "rayleigh") for s in np.arange(-10.0, 40.0, 0.5)]
        fading_rates = [CodewordLayout.of(m, CODED).payload_bits_per_symbol for m in fading]
        assert all(f <= a for f, a in zip(fading_rates, rates, strict=True))


def test_committed_table_agrees_with_a_fresh_measurement():
    table = BLERTable.load(TABLE_DIR / f"{CODED.key}_awgn.json")
    name = MCS("qpsk", 0.5).name
    bler = table.measured(name)
    i = int(np.argmin(np.abs(bler - 0.5)))  # the steepest, most informative point
    link = DigitalLink(MCS("qpsk", 0.5), CODED, make_channel("awgn"))
    payloads = _random_payloads([link.codeword_payload_bytes] * 64, seed=11)
    fails = sum(not r.codeword_ok.all() for r in link.transmit(payloads, table.snr_db[i]))
    sigma = math.sqrt(bler[i] * (1 - bler[i]) * (1 / 64 + 1 / table.codewords[name][i]))
    assert abs(fails / 64 - bler[i]) < 5 * sigma + 0.02


def test_add_to_table_measures_one_mcs_up_to_its_first_clean_point():
    table = BLERTable(CODED.key, "awgn", [-9.0, -6.0, -3.0, 0.0, 3.0])
    budget = BLERBudget(probe=8, batch=32, min_errors=8, max_codewords=32)
    add_to_table(table, CODED, MCS("bpsk", 0.21), budget, seed=1)
    errors, counts = table.errors["bpsk r=0.21"], table.codewords["bpsk r=0.21"]
    assert errors[0] == counts[0] > 0  # -9 dB: far below the code's threshold, every codeword fails
    clean = next(i for i, (e, c) in enumerate(zip(errors, counts, strict=True)) if c and not e)
    assert counts[clean] == 32 and not any(counts[clean + 1 :])  # nothing simulated above it
    assert table.meta["added"]["bpsk r=0.21"]["budget"]["max_codewords"] == 32


def test_deepen_table_adds_codewords_where_errors_were_few_and_walks_on_to_a_clean_point():
    table = BLERTable(CODED.key, "awgn", [-9.0, -6.0, -4.5, -3.0, 0.0, 3.0])
    add_to_table(table, CODED, MCS("bpsk", 0.21), BLERBudget(probe=8, batch=16, max_codewords=16))
    name = "bpsk r=0.21"
    before_errors, before_counts = list(table.errors[name]), list(table.codewords[name])
    deeper = BLERBudget(probe=8, batch=48, min_errors=20, max_codewords=64)
    saved = []
    deepen_table(
        table, CODED, deeper, seed=2, on_row=lambda t: saved.append(list(t.codewords[name]))
    )
    errors, counts = table.errors[name], table.codewords[name]
    assert saved == [counts]  # saved after its one row, as measured
    seconds = table.meta["deepened"]["seconds"]
    deepen_table(table, CODED, deeper, seed=2)  # resumed with the same budget: nothing left to do
    assert table.codewords[name] == counts and table.meta["deepened"]["seconds"] >= seconds
    for i, (e0, c0) in enumerate(zip(before_errors, before_counts, strict=True)):
        if c0 and e0 == c0:  # saturated: not measured again
            assert (errors[i], counts[i]) == (e0, c0)
        elif c0:  # continued: the earlier counts are kept and added to
            assert counts[i] >= c0 and errors[i] >= e0
            assert errors[i] >= 20 or counts[i] == 64
    clean = next(i for i, (e, c) in enumerate(zip(errors, counts, strict=True)) if c and not e)
    assert counts[clean] == 64 and not any(counts[clean + 1 :])
    assert table.meta["deepened"]["budget"]["max_codewords"] == 64


def test_deepen_with_extend_walks_rows_without_a_clean_point_into_the_new_grid():
    table = BLERTable(CODED.key, "awgn", [-10.0, -8.0])
    small = BLERBudget(probe=8, batch=16, max_codewords=16)
    add_to_table(table, CODED, MCS("bpsk", 0.21), small)  # fails at both points: no clean point
    add_to_table(table, CODED, MCS("bpsk", 0.21, repetitions=4), small)  # clean at -10 dB already
    weak, strong = "bpsk r=0.21", "bpsk r=0.21 x4"
    assert all(table.errors[weak]) and table.errors[strong][0] == 0
    deeper = BLERBudget(probe=8, batch=32, min_errors=8, max_codewords=32)
    deepen_table(table, CODED, deeper, seed=2, extend_to_db=-3.5, extend_step_db=2.0)
    assert table.snr_db == [-10.0, -8.0, -6.0, -4.0]
    errors, counts = table.errors[weak], table.codewords[weak]
    clean = next(i for i, (e, c) in enumerate(zip(errors, counts, strict=True)) if c and not e)
    assert clean >= 2 and counts[clean] == 32  # the row went on into the added points
    assert table.codewords[strong][1:] == [0, 0, 0]  # a clean row is not measured above its point
    assert len(table.errors[strong]) == len(table.snr_db)
    with pytest.raises(ValueError, match="extend_step_db"):
        deepen_table(table, CODED, deeper, extend_to_db=9.0, extend_step_db=0.0)
