"""Deep JSCC codec: symbol layout and power, capacity, the shipped model's quality over AWGN and
Rayleigh fading (noiseless floor, graceful degradation, more symbols help) and a resumable run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from simulator.data import make_source
from source_codecs import make_codec
from source_codecs.deepjscc.af_module import AFModule
from source_codecs.deepjscc.model import DeepJSCC, DeepJSCCConfig, shipped_weights
from source_codecs.deepjscc.symbols import latent_to_symbols, received_features
from source_codecs.deepjscc.train import main as train_main
from source_codecs.deepjscc.train import reconstruction_loss
from source_codecs.deepjscc.training_channel import TrainingChannel

pytestmark = pytest.mark.usefixtures("one_thread")

H, W = 64, 128
CAPACITY = H * W // 8  # 8 complex symbols per 8x8 block: rho = 1/24
IMAGES = np.stack(
    [s.image for s in make_source("synthetic", root=None, num_images=2, height=H, width=W, seed=0)]
)
# Measured with the shipped weights (session 11) on IMAGES: 21.05 dB noiseless at rho 1/24; over
# AWGN at -5 / 0 / 10 / 20 dB, rho 1/96: 17.9 / 19.1 / 20.65 / 20.97, rho 1/48: 18.55 / 19.73 /
# 20.89 / 21.05, rho 1/24: 19.18 / 20.29 / 20.97 / 21.04.
NOISELESS_PSNR_FLOOR = 19.0


@pytest.fixture(scope="module")
def codec():
    return make_codec("deepjscc")


def _k(rho: float) -> int:
    return int(np.floor(rho * 3 * H * W))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / mse))


def _awgn(x: torch.Tensor, snr_db: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x + CN(0, N0) with N0 = 10^(-snr/10), and the noise variance [B, K]."""
    n0 = 10 ** (-snr_db / 10)
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, dtype=torch.complex64, generator=gen)
    return x + np.sqrt(n0) * noise, torch.full(x.shape, n0)


def _link_psnr(codec, rho: float, snr_db: float) -> float:
    x = codec.encode_symbols(IMAGES, _k(rho), snr_db)
    y, noise_var = _awgn(x, snr_db)
    return _psnr(codec.decode_symbols(y, noise_var, snr_db, H, W), IMAGES)


# --- symbol layout -------------------------------------------------------------------------------


def test_symbols_are_channel_major_and_received_features_invert_them() -> None:
    latent = torch.randn(2, 6, 3, 4)  # C = 3 complex channels of 12 positions
    symbols = latent_to_symbols(latent, 30)
    assert symbols.shape == (2, 30) and symbols.dtype == torch.complex64
    assert torch.equal(symbols[:, :12], torch.complex(latent[:, 0], latent[:, 1]).reshape(2, 12))
    assert torch.equal(
        symbols[:, 24:], torch.complex(latent[:, 4], latent[:, 5]).reshape(2, 12)[:, :6]
    )
    features = received_features(symbols, torch.zeros(2, 30), 3, 3, 4)
    assert features.shape == (2, 9, 3, 4)
    assert torch.equal(features[:, :4], latent[:, :4])  # g = 1 for noiseless symbols
    assert torch.equal(features[:, 4].flatten(1)[:, :6], latent[:, 4].flatten(1)[:, :6])
    assert not features[:, 4:6].flatten(2)[:, :, 6:].any()  # not sent: zero symbol ...
    assert torch.equal(features[:, 8].flatten(1), (torch.arange(12) < 6).float().expand(2, 12))


def test_unreliable_symbols_get_zero_gain_and_no_nan() -> None:
    symbols = torch.tensor([[1 + 1j, float("inf"), 2 + 0j, float("nan")]], dtype=torch.complex64)
    noise_var = torch.tensor([[1.0, 1.0, float("inf"), 0.0]])
    features = received_features(symbols, noise_var, 1, 2, 2)
    assert torch.isfinite(features).all()
    assert features[0, 0].flatten().tolist() == [0.5, 0.0, 0.0, 0.0]
    assert features[0, 2].flatten().tolist() == [0.5, 0.0, 0.0, 0.0]


# --- the codec -----------------------------------------------------------------------------------


@pytest.mark.parametrize("num_symbols", [1, _k(1 / 96), 777, _k(1 / 48), CAPACITY])
def test_symbols_have_shape_and_unit_energy(codec, num_symbols: int) -> None:
    x = codec.encode_symbols(IMAGES, num_symbols, 10.0)
    assert x.shape == (2, num_symbols) and x.dtype == torch.complex64
    np.testing.assert_allclose(x.abs().square().mean(1).numpy(), 1.0, rtol=1e-4)


def test_capacity_is_rho_one_24th_and_more_raises(codec) -> None:
    assert _k(1 / 24) == CAPACITY
    with pytest.raises(ValueError, match=f"{CAPACITY + 1}.*{CAPACITY}"):
        codec.encode_symbols(IMAGES, CAPACITY + 1, 10.0)
    with pytest.raises(ValueError, match=f"{CAPACITY + 1}.*{CAPACITY}"):
        codec.decode_symbols(
            torch.zeros(1, CAPACITY + 1, dtype=torch.complex64),
            torch.ones(1, CAPACITY + 1),
            10.0,
            H,
            W,
        )


def test_sizes_not_multiple_of_8_are_padded_and_cropped(codec) -> None:
    images = IMAGES[:1, :61, :99]
    x = codec.encode_symbols(images, int(61 * 99 * 3 / 24), 10.0)
    out = codec.decode_symbols(*_awgn(x, 20.0), 20.0, 61, 99)
    assert out.shape == (1, 61, 99, 3) and out.dtype == np.uint8
    assert _psnr(out, images) > NOISELESS_PSNR_FLOOR - 3


def test_noiseless_decode_beats_floor(codec) -> None:
    x = codec.encode_symbols(IMAGES, CAPACITY, 20.0)
    out = codec.decode_symbols(x, torch.full(x.shape, 1e-6), 20.0, H, W)
    assert out.shape == IMAGES.shape and out.dtype == np.uint8
    assert _psnr(out, IMAGES) > NOISELESS_PSNR_FLOOR


def test_quality_degrades_gracefully_with_snr(codec) -> None:
    psnr = [_link_psnr(codec, 1 / 48, snr) for snr in (20.0, 0.0, -5.0)]
    assert psnr[0] > psnr[1] > psnr[2] > 10.0


def test_more_symbols_beat_fewer(codec) -> None:
    # At 10 dB (1/24 beats 1/96 by 0.32 dB on these two small images; by 0.07 dB at 20 dB).
    psnr = [_link_psnr(codec, rho, 10.0) for rho in (1 / 96, 1 / 48, 1 / 24)]
    assert psnr[2] > psnr[1] > psnr[0]
    assert psnr[2] > psnr[0] + 0.15


def test_rayleigh_deep_fades_decode_to_an_image(codec) -> None:
    torch.manual_seed(0)
    x = codec.encode_symbols(IMAGES, CAPACITY, 10.0)
    y, noise_var = TrainingChannel(fading_prob=1.0)(x, torch.full((2,), 10.0))
    out = codec.decode_symbols(y, noise_var, 10.0, H, W)
    assert _psnr(out, IMAGES) > 15.0


def test_encoder_adapts_to_snr(codec) -> None:
    low, high = (codec.encode_symbols(IMAGES, 256, snr) for snr in (-5.0, 20.0))
    assert not torch.allclose(low, high, atol=1e-3)


def test_shipped_weights_are_small_fp16() -> None:
    path = shipped_weights()
    assert path.stat().st_size < 8 * 2**20  # 4.7 MiB: width 96, 4 residual blocks per network
    saved = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in saved["state_dict"].values())
    model = DeepJSCC.load(path)
    assert not model.training and model.capacity(256, 512) == 256 * 512 // 8


# --- training ------------------------------------------------------------------------------------


def test_two_step_training_run_resumes(resumed_run) -> None:
    args = ["--crop", "32", "--width", "8", "--blocks", "1", "--loss", "psnr"]
    _, _, out = resumed_run(train_main, args, height=32, width=64)
    options = json.loads((out / "options.json").read_text())
    assert (options["width"], options["loss"]) == (8, "psnr")
    assert "lr=" in (out / "train.log").read_text()
    config = DeepJSCC.load(out / "weights.pt").config
    assert (config.width, config.blocks) == (8, 1)


def test_psnr_loss_is_minus_mean_psnr_and_weighs_small_errors_up() -> None:
    """``psnr`` is minus the mean of the images' PSNRs; image 1 has 10x image 0's error, so under
    ``mse`` its gradient is 10x image 0's, under ``psnr`` a tenth of it."""
    image = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    error = 0.01 * torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    decoded = (image + torch.cat([error, 10 * error])).requires_grad_(True)
    mse_i = (decoded - image).square().flatten(1).mean(1).detach().double()
    psnr = reconstruction_loss(decoded, image, "psnr")
    assert psnr.item() == pytest.approx(-(10 * torch.log10(1 / mse_i)).mean().item(), rel=1e-5)
    for loss, ratio in (("mse", 10.0), ("psnr", 0.1)):
        (grad,) = torch.autograd.grad(reconstruction_loss(decoded, image, loss), decoded)
        assert (grad[1].norm() / grad[0].norm()).item() == pytest.approx(ratio, rel=1e-4)


def test_residual_blocks_keep_shapes_and_learn_depth() -> None:
    """Blocks add parameters at 1/8 resolution only; the shapes of every output stay the same."""
    shallow, deep = (DeepJSCC(DeepJSCCConfig(width=16, blocks=b)).eval() for b in (0, 2))
    extra = sum(p.numel() for p in deep.parameters()) - sum(p.numel() for p in shallow.parameters())
    # Two 3x3 convolutions of 16 channels, a PReLU and an AF module per block, in both networks.
    per_block = 2 * (16 * 16 * 9 + 16) + 16 + sum(p.numel() for p in AFModule(16).parameters())
    assert extra == 2 * 2 * per_block
    image, snr = torch.rand(1, 3, 32, 48), torch.tensor([5.0])
    x = deep.encode(image, 100, snr)
    y = deep.decode(x, torch.full((1, 100), 0.1), snr, 32, 48)
    assert x.shape == (1, 100) and y.shape == (1, 3, 32, 48)
