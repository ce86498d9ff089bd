"""OFDM over TDL/CDL multipath (channels.ofdm): flat-fading BER, CSI estimation, Doppler, budget, params."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sionna.phy
import torch
from sionna.phy.mapping import Mapper

from channels import ChannelConfigError, channel_family, make_channel
from channels.base import channel_data_symbols, split_channel_output
from channels.equalization import zf_equalize
from channels.ofdm import OFDMMultipathChannel
from channels.phy import MCS, DigitalLink, FECConfig

# Small grids keep the suite fast: 12 subcarriers, pilots on OFDM symbols 2 and 11 of 14.
SMALL = {"fft_size": 12, "cyclic_prefix_length": 1}


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.set_num_threads(1)
    sionna.phy.config.seed = 7


def _qpsk(batch: int, symbols: int) -> tuple[torch.Tensor, torch.Tensor]:
    bits = torch.randint(0, 2, (batch, 2 * symbols)).float()
    return bits, Mapper("qam", 2)(bits)


def _qpsk_ber(channel: torch.nn.Module, snr_db: float, symbols: int) -> float:
    """Uncoded QPSK over ``channel``, zero forcing with its (estimated) CSI, hard decisions."""
    bits, x = _qpsk(1, symbols)
    y, h, _ = split_channel_output(channel(x, 10 ** (-snr_db / 10)))
    x_hat, _ = zf_equalize(y, h, 10 ** (-snr_db / 10))
    decided = torch.stack([x_hat.real < 0, x_hat.imag < 0], dim=-1).flatten(1).float()
    return (decided != bits).float().mean().item()


def _rayleigh_qpsk_ber(snr_db: float) -> float:
    """Closed-form bit error rate of Gray QPSK over flat Rayleigh fading, Es/N0 = ``snr_db``."""
    g = 10 ** (snr_db / 10) / 2  # Eb/N0
    return 0.5 * (1 - math.sqrt(g / (1 + g)))


@pytest.mark.parametrize(
    ("params", "slots"),
    [
        ({"delay_spread": 0.0, "pilot_pattern": "empty", "num_ofdm_symbols": 2}, 12000),
        ({"multipath_model": "C", "delay_spread": 300e-9, "ue_speed": 30.0}, 600),
    ],
)
@pytest.mark.parametrize("snr_db", [5.0, 15.0])
def test_perfect_csi_reproduces_flat_rayleigh_qpsk_ber(params, slots, snr_db):
    # With delay spread 0 every resource element of a slot sees the same CN(0, 1) coefficient:
    # flat Rayleigh block fading. With multipath (NLoS TDL-C) each resource element still sees a
    # CN(0, 1) coefficient, so the uncoded BER is the same. The tolerance: 5 standard deviations with
    # slots (not bits) as the independent trials, Var <= E[P_slot^2]/slots <= 0.5 * BER / slots.
    channel = OFDMMultipathChannel(**SMALL, **params)
    symbols = slots * channel.grid.data_per_slot
    ber = _qpsk_ber(channel, snr_db, symbols)
    expected = _rayleigh_qpsk_ber(snr_db)
    assert abs(ber - expected) < 5 * math.sqrt(0.5 * expected / slots), (ber, expected)


def test_outputs_keep_the_order_of_the_data_symbols():
    # Noise-free, perfect CSI: y = h * x on every data symbol, for TDL and CDL, across slot borders.
    for multipath in ("tdl", "cdl"):
        channel = OFDMMultipathChannel(**SMALL, multipath=multipath, ue_speed=50.0)
        _, x = _qpsk(2, 3 * channel.grid.data_per_slot - 5)
        seen = channel.observe(x, 0.0)
        assert seen.y.shape == x.shape == seen.h.shape == seen.err_var.shape
        torch.testing.assert_close(seen.y, seen.h * x, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(seen.h_hat, seen.h)
        assert seen.err_var.abs().max() == 0
        # multipath: the coefficients differ across subcarriers and slots
        assert seen.h.abs().std() > 0.2


def _estimation_mse(params: dict, snr_db: float, slots: int = 300) -> tuple[float, float]:
    """(mean |h_hat - h|^2, mean reported err_var) on the data resource elements."""
    channel = OFDMMultipathChannel(**SMALL, **params)
    _, x = _qpsk(1, slots * channel.grid.data_per_slot)
    seen = channel.observe(x, 10 ** (-snr_db / 10))
    return (seen.h_hat - seen.h).abs().square().mean().item(), seen.err_var.mean().item()


def test_ls_is_worse_than_perfect_at_low_snr_and_converges_at_high_snr():
    symbols = 400 * 144
    gaps = {}
    for snr_db in (0.0, 30.0):
        sionna.phy.config.seed = 3  # same channel and noise draws for both CSI modes
        perfect = _qpsk_ber(OFDMMultipathChannel(**SMALL, csi="perfect"), snr_db, symbols)
        sionna.phy.config.seed = 3
        ls = _qpsk_ber(OFDMMultipathChannel(**SMALL, csi="ls"), snr_db, symbols)
        gaps[snr_db] = (perfect, ls)
    perfect, ls = gaps[0.0]
    assert ls > 1.25 * perfect and ls - perfect > 0.03, gaps  # ~0.21 vs ~0.30: LS loses ~3 dB
    perfect, ls = gaps[30.0]
    assert abs(ls - perfect) < 0.003, gaps  # ~5e-4 vs ~1e-3: the absolute gap closes
    # the LS error itself scales with N0, and the reported error variance matches it
    mse_low, var_low = _estimation_mse({"csi": "ls"}, 0.0)
    mse_high, var_high = _estimation_mse({"csi": "ls"}, 30.0)
    assert mse_high < 0.01 * mse_low
    assert 0.7 < mse_low / var_low < 1.1 and 0.7 < mse_high / var_high < 1.1


def test_lmmse_beats_ls_at_low_snr():
    # LMMSE filtering across subcarriers with the TDL covariance averages the pilots' noise away.
    mse_ls, _ = _estimation_mse({"csi": "ls"}, 0.0)
    mse_lmmse, var_lmmse = _estimation_mse({"csi": "lmmse"}, 0.0)
    assert mse_lmmse < 0.5 * mse_ls
    assert 0.5 < mse_lmmse / var_lmmse < 2.0


def test_doppler_degrades_ls_estimation():
    # Pilots on OFDM symbols 2 and 11: at 3.5 GHz and 500 m/s (Doppler 5.8 kHz, coherence time
    # ~70 us ~ 2 OFDM symbols of 36 us) linear interpolation between them cannot follow the channel.
    static, _ = _estimation_mse({"csi": "ls", "ue_speed": 0.0}, 30.0)
    fast, reported = _estimation_mse({"csi": "ls", "ue_speed": 500.0}, 30.0)
    assert fast > 20 * static and fast > 0.1
    assert reported < 0.01  # the LS error variance does not see the interpolation error


def test_pilots_and_cyclic_prefix_reduce_the_data_symbols():
    uses = 8192
    full = OFDMMultipathChannel(fft_size=72, cyclic_prefix_length=0, pilot_pattern="empty")
    with_cp = OFDMMultipathChannel(fft_size=72, cyclic_prefix_length=6, pilot_pattern="empty")
    with_pilots = OFDMMultipathChannel(fft_size=72, cyclic_prefix_length=6)
    # whole slots: 8192 // (14 * 72) = 8 slots; 8192 // (14 * 78) = 7 slots
    assert full.data_symbols(uses) == 8 * 14 * 72
    assert with_cp.data_symbols(uses) == 7 * 14 * 72
    assert with_pilots.data_symbols(uses) == 7 * 12 * 72
    assert channel_data_symbols(make_channel("awgn"), uses) == uses
    mcs, fec = MCS("16qam", 0.5), FECConfig()
    awgn_bytes = DigitalLink(mcs, fec, make_channel("awgn")).payload_bytes(uses)
    ofdm_bytes = DigitalLink(mcs, fec, with_pilots).payload_bytes(uses)
    assert ofdm_bytes == (7 * 12 * 72 // 256) * 61 < awgn_bytes == (8192 // 256) * 61


def test_digital_link_over_ofdm_with_estimated_csi():
    channel = make_channel("ofdm", {**SMALL, "csi": "ls", "multipath_model": "B"})
    link = DigitalLink(MCS("qpsk", 0.5), FECConfig(), channel)
    rng = np.random.default_rng(0)
    payloads = [rng.bytes(200), rng.bytes(70)]
    results = link.transmit(payloads, snr_db=30.0)
    assert [r.data for r in results] == payloads
    assert all(r.codeword_ok.all() for r in results)
    failed = link.transmit(payloads, snr_db=-10.0)
    assert not any(r.codeword_ok.all() for r in failed)


def test_ofdm_family_is_per_slot_block_rayleigh():
    # 72 subcarriers x 12 data OFDM symbols
    assert channel_family(make_channel("ofdm", {})) == "rayleigh_bl864"
    empty = make_channel("ofdm", {"fft_size": 128, "pilot_pattern": "empty"})
    assert channel_family(empty) == "rayleigh_bl1792"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"fft_size": 0}, "fft_size must be an integer >= 1"),
        ({"cyclic_prefix_length": -1}, "cyclic_prefix_length"),
        ({"subcarrier_spacing": "30k"}, "subcarrier_spacing"),
        ({"pilot_pattern": "comb"}, "unknown pilot_pattern 'comb'; choose from kronecker, empty"),
        ({"pilot_ofdm_symbol_indices": [2, 14]}, "pilot_ofdm_symbol_indices"),
        ({"multipath": "uma"}, "unknown multipath 'uma'; choose from tdl, cdl"),
        ({"multipath_model": "F"}, "unknown tdl model 'F'"),
        ({"delay_spread": -1e-9}, "delay_spread must be a number >= 0 in s"),
        ({"carrier_frequency": 0}, "carrier_frequency must be > 0"),
        ({"csi": "mmse"}, "unknown csi 'mmse'; choose from perfect, ls, lmmse"),
        ({"csi": "ls", "pilot_pattern": "empty"}, "needs pilots"),
        ({"csi": "lmmse", "multipath": "cdl"}, "lmmse' needs multipath 'tdl'"),
        ({"ls_interpolation": "cubic"}, "unknown ls_interpolation"),
        ({"model": "A"}, "unknown parameter 'model'"),
    ],
)
def test_bad_params_raise_one_line(params, needle):
    with pytest.raises(ChannelConfigError) as info:
        make_channel("ofdm", params)
    message = str(info.value)
    assert "\n" not in message and needle in message, message
