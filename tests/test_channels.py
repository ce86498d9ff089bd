"""Channel models, registry and equalisation: statistics that break if the models are wrong."""

import math

import pytest
import sionna.phy
import torch

from channels import (
    AWGNChannel,
    ChannelConfigError,
    RayleighChannel,
    RicianChannel,
    available_channels,
    channel_family,
    make_channel,
    noise_variance,
    register_channel,
    zf_equalize,
)
from channels.family import family_channel

BATCH, SYMBOLS = 8, 10_000
N = BATCH * SYMBOLS


def _qpsk(batch=BATCH, symbols=SYMBOLS):
    bits = torch.randint(0, 2, (2, batch, symbols)).float() * 2 - 1
    return torch.complex(bits[0], bits[1]) / math.sqrt(2)


@pytest.fixture(autouse=True)
def _seed():
    sionna.phy.config.seed = 1234


@pytest.mark.parametrize("snr_db", [-3.0, 5.0, 20.0])
def test_awgn_noise_variance_matches_n0(snr_db):
    x = _qpsk()
    no = noise_variance(snr_db)
    y, h = AWGNChannel()(x, no)
    assert y.shape == x.shape and y.dtype == torch.complex64
    assert torch.all(h == 1)
    noise = y - x
    # Sample variance of N complex Gaussians: relative std 1/sqrt(N); 5 sigma.
    assert abs(noise.abs().square().mean().item() / no - 1) < 5 / math.sqrt(N)
    # Circular: half the power per real dimension, uncorrelated I and Q.
    assert abs(noise.real.var().item() / (no / 2) - 1) < 5 * math.sqrt(2 / N)
    assert abs((noise.real * noise.imag).mean().item()) / (no / 2) < 5 / math.sqrt(N)


def test_awgn_noise_tensor_broadcasts_per_row():
    x = _qpsk(batch=2)
    no = torch.tensor([[0.01], [1.0]])
    y, _ = AWGNChannel()(x, no)
    power = (y - x).abs().square().mean(dim=1)
    assert torch.allclose(power, no.squeeze(1), rtol=0.1)


@pytest.mark.parametrize("block_length", [1, 7, 100])
def test_rayleigh_unit_power_and_block_structure(block_length):
    x = _qpsk()
    y, h = RayleighChannel(block_length=block_length)(x, 0.1)
    blocks = math.ceil(SYMBOLS / block_length)
    samples = BATCH * blocks
    gain = h.abs().square()
    # |h|^2 ~ Exp(1): mean 1, relative std 1/sqrt(samples) over independent blocks.
    assert abs(gain.mean().item() - 1) < 5 / math.sqrt(samples)
    # Exponential: P(|h|^2 < 0.1) = 1 - exp(-0.1).
    p = 1 - math.exp(-0.1)
    assert abs((gain < 0.1).float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / samples)
    # Constant inside each block (the last one may be short), independent across blocks.
    padded = torch.nn.functional.pad(h, (0, blocks * block_length - SYMBOLS), value=float("nan"))
    per_block = padded.reshape(BATCH, blocks, block_length)
    first = per_block[..., :1].expand_as(per_block)
    valid = ~torch.isnan(per_block.real)
    assert torch.equal(per_block[valid], first[valid])
    g = per_block[..., 0]
    corr = (g[:, 1:] * g[:, :-1].conj()).mean().abs().item()
    assert corr < 5 / math.sqrt(samples)
    # Noise is added after the fading.
    assert abs((y - h * x).abs().square().mean().item() / 0.1 - 1) < 5 / math.sqrt(N)


@pytest.mark.parametrize("k_db", [0.0, 6.0, 10.0])
def test_rician_unit_power_and_k_factor(k_db):
    _, h = RicianChannel(k_factor_db=k_db)(_qpsk(), 0.01)
    k = 10 ** (k_db / 10)
    assert abs(h.abs().square().mean().item() - 1) < 5 * math.sqrt(2 / (k + 1) / N) + 1e-3
    los_power = h.mean().abs().square().item()  # |E h|^2 = K / (K + 1)
    scatter_power = (h - h.mean()).abs().square().mean().item()  # 1 / (K + 1)
    k_hat = los_power / scatter_power
    assert abs(10 * math.log10(k_hat) - k_db) < 0.1


def test_rician_block_fading_shares_coefficients():
    _, h = RicianChannel(k_factor_db=3.0, block_length=50)(_qpsk(symbols=1000), 0.1)
    blocks = h.reshape(BATCH, 20, 50)
    assert torch.equal(blocks, blocks[..., :1].expand_as(blocks))


def test_seed_makes_channels_reproducible():
    x = _qpsk(batch=2, symbols=100)
    outputs = []
    for _ in range(2):
        sionna.phy.config.seed = 7
        outputs.append(RicianChannel(block_length=3)(x, 0.5))
    assert torch.equal(outputs[0][0], outputs[1][0]) and torch.equal(outputs[0][1], outputs[1][1])


def test_zf_equalize_inverts_the_channel_and_scales_the_noise():
    x = _qpsk(batch=2, symbols=500)
    y, h = RayleighChannel()(x, 0.0)
    x_hat, no_eff = zf_equalize(y, h, 0.2)
    assert torch.allclose(x_hat, x, atol=1e-3)
    assert torch.allclose(no_eff, 0.2 / h.abs().square(), rtol=1e-4)
    _, no_zero = zf_equalize(y, torch.zeros_like(h), 0.2)
    assert torch.isfinite(no_zero).all()


def test_registry_lists_builtins_and_builds_them():
    assert {"awgn", "rayleigh", "rician"} <= set(available_channels())
    channel = make_channel("rician", {"k_factor_db": 3, "block_length": 4})
    assert isinstance(channel, RicianChannel) and channel.block_length == 4


def test_custom_channel_from_module_path():
    channel = make_channel("examples.phase_offset_channel:PhaseOffsetAWGN", {"phase_deg": 90})
    x = _qpsk(batch=1, symbols=64)
    y, h = channel(x, 0.0)
    assert torch.allclose(h, torch.full_like(h, 1j), atol=1e-6)
    assert torch.allclose(zf_equalize(y, h, 0.0)[0], x, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "params", "needles"),
    [
        (
            "rayleight",
            {},
            ["'rayleight'", "awgn, ofdm, rayleigh, rician", "package.module:ClassName"],
        ),
        ("rayleigh", {"blocklength": 4}, ["'blocklength'", "allowed: block_length"]),
        ("awgn", {"snr": 1}, ["'snr'", "allowed: none"]),
        ("rayleigh", {"block_length": 0}, ["block_length must be an integer >= 1"]),
        ("rician", {"k_factor_db": "six"}, ["k_factor_db must be a number"]),
        ("nosuchpkg.mod:Cls", {}, ["cannot import 'nosuchpkg.mod'", "No module named 'nosuchpkg'"]),
        (
            "channels.awgn:NoSuchClass",
            {},
            ["module 'channels.awgn' has no attribute 'NoSuchClass'"],
        ),
    ],
)
def test_bad_configuration_raises_one_readable_line(model, params, needles):
    with pytest.raises(ChannelConfigError) as info:
        make_channel(model, params)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, ValueError)
    for needle in needles:
        assert needle in message


def test_register_channel_rejects_a_second_class_under_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):

        @register_channel("awgn")
        class Other(torch.nn.Module):
            pass


def test_channel_family_and_its_channel():
    assert channel_family(make_channel("awgn", {})) == "awgn"
    assert channel_family(make_channel("rayleigh", {})) == "rayleigh"
    assert channel_family(make_channel("rician", {"k_factor_db": 6})) == "rayleigh"
    assert channel_family(make_channel("rician", {"block_length": 8})) == "rayleigh_bl8"
    assert channel_family(torch.nn.Identity()) == "rayleigh"  # a custom channel
    assert channel_family(make_channel("rayleigh", {"block_length": 64})) == "rayleigh_bl64"
    assert isinstance(family_channel("awgn"), AWGNChannel)
    assert family_channel("rayleigh_bl64").block_length == 64
    with pytest.raises(ValueError, match="unknown channel family"):
        family_channel("tdl")
