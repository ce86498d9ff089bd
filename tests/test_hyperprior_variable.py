"""The variable-rate scale hyperprior (gain units, ``rate: variable``): interpolated gains, the
model's round trip at real levels, bf16 autocast with float32 likelihoods, the codec's knob (bytes
grow with it, budgets, header), failures to decode counted, and a resumable two-step training run
with the new options. A tiny random model throughout (N = 8, M = 12, 3 levels)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from corruption import CORRUPTIONS, corrupt_stream

from simulator.data import make_source
from source_codecs import BudgetTooSmall, CodecConfigError, DecodeError, make_codec
from source_codecs.hyperprior.bitstream import LEVEL_SUBSTEPS, VARIABLE, Streams, pack, unpack
from source_codecs.hyperprior.codec import load_weights
from source_codecs.hyperprior.gain import GainUnits
from source_codecs.hyperprior.model import HyperpriorConfig, ScaleHyperprior
from source_codecs.hyperprior.train import main as train_main
from source_codecs.hyperprior.zoo import shipped_weights

pytestmark = pytest.mark.usefixtures("one_thread")

H, W = 64, 128
IMAGE = make_source("synthetic", root=None, num_images=1, height=H, width=W, seed=0, split="test")[
    0
].image
LEVELS = 3
KNOBS = LEVEL_SUBSTEPS * (LEVELS - 1) + 1


def _tiny_model() -> ScaleHyperprior:
    """A random N = 8, M = 12 model with 3 levels whose y gains span 2 .. 32 (so that the rate
    visibly follows the level) and fitted quantiles, in eval mode."""
    torch.manual_seed(0)
    model = ScaleHyperprior(HyperpriorConfig(n=8, m=12, levels=LEVELS))
    model.gain_y.initialise(torch.log(torch.tensor([2.0, 8.0, 32.0])))
    model.entropy_bottleneck.update_quantiles()
    return model.eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("variable") / "variable.pt"
    _tiny_model().export(path, {"steps": 0})
    return str(path)


@pytest.fixture(scope="module")
def codec(weights):
    return make_codec("hyperprior", {"rate": "variable", "weights": weights})


def test_gains_interpolate_geometrically_between_levels() -> None:
    units = GainUnits(3, 4)
    with torch.no_grad():
        units.log_gain.copy_(torch.randn(3, 4))
        units.log_inverse.copy_(torch.randn(3, 4))
    gain, inverse = units(torch.tensor([0.0, 1.0, 1.25, 2.0, 5.0]))
    assert gain.shape == inverse.shape == (5, 4, 1, 1)
    gain, inverse = gain[:, :, 0, 0], inverse[:, :, 0, 0]
    table, table_inverse = units.log_gain.exp(), units.log_inverse.exp()
    assert torch.allclose(gain[[0, 1, 3, 4]], table[[0, 1, 2, 2]])  # levels; beyond: clamped
    assert torch.allclose(inverse[[0, 1, 3, 4]], table_inverse[[0, 1, 2, 2]])
    assert torch.allclose(gain[2], table[1] ** 0.75 * table[2] ** 0.25)
    assert torch.allclose(inverse[2], table_inverse[1] ** 0.75 * table_inverse[2] ** 0.25)


@pytest.mark.parametrize("level", [0.0, 0.625, 1.0, 2.0])
def test_round_trip_at_real_levels_is_the_model_in_eval_mode(level: float) -> None:
    model = _tiny_model()
    x = torch.rand(1, 3, 50, 70, generator=torch.Generator().manual_seed(1))
    z, y = model.compress(x, level=level)
    x_hat = model.decompress(z, y, 50, 70, level=level)
    padded = torch.nn.functional.pad(x, (0, 58, 0, 14), mode="replicate")
    with torch.no_grad():
        reference = model(padded, level=level)[0][:, :, :50, :70].clamp(0, 1)
    assert torch.allclose(x_hat, reference, atol=1e-5)
    with pytest.raises(ValueError, match="rate level"):
        model.compress(x)
    with pytest.raises(ValueError, match="no rate levels"):
        ScaleHyperprior(HyperpriorConfig(n=8, m=12)).compress(x, level=level)


def test_autocast_keeps_the_likelihoods_float32() -> None:
    model = _tiny_model().train()
    x = torch.rand(2, 3, 64, 64)
    with torch.autocast("cpu", torch.bfloat16):
        x_hat, likelihoods = model(x, level=torch.tensor([0.3, 1.7]))
        inner = model.g_a(x)
    assert inner.dtype == torch.bfloat16  # the transforms do run in bf16
    assert x_hat.dtype == likelihoods["y"].dtype == likelihoods["z"].dtype == torch.float32
    assert likelihoods["y"].shape == (2, 12, 4, 4)


def test_bitstream_carries_the_knob() -> None:
    streams = Streams(VARIABLE, b"\x05" * 10, b"\x07\x08", knob=13)
    data = pack(streams)
    assert data[1] == 16 + 13 and unpack(data) == streams
    assert unpack(data).level == 13 / LEVEL_SUBSTEPS
    assert unpack(pack(Streams("q2", b"", b"\x01"))).level is None
    with pytest.raises(ValueError):
        pack(Streams(VARIABLE, b"", b"", knob=240))
    for tag in (0, 4, 15):
        with pytest.raises(DecodeError):
            unpack(data[:1] + bytes([tag]) + data[2:])


def test_weights_keep_the_gains_float32_and_load(weights) -> None:
    saved = torch.load(weights, weights_only=True)
    assert saved["config"] == {"n": 8, "m": 12, "levels": LEVELS}
    assert saved["state_dict"]["gain_y.log_gain"].dtype == torch.float32
    assert saved["state_dict"]["g_a.0.weight"].dtype == torch.float16
    old = torch.load(shipped_weights("q1"), weights_only=True)["config"]
    assert "levels" not in old  # the shipped rate points load as models without gain units
    assert ScaleHyperprior.load(shipped_weights("q1")).config.levels == 0


def test_bytes_grow_with_the_knob_and_budgets_pick_the_largest_that_fits(codec, weights) -> None:
    sizes = [len(codec.write(IMAGE, knob)) for knob in range(0, KNOBS, 4)]
    assert all(a < b for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    top = codec.encode(IMAGE, None)
    assert codec.last_knob == KNOBS - 1 and top[1] == 16 + KNOBS - 1
    budget = (sizes[1] + sizes[2]) // 2
    stream = codec.encode(IMAGE, budget)
    assert len(stream) <= budget < len(codec.write(IMAGE, codec.last_knob + 1))
    assert 4 <= codec.last_knob < 8 and unpack(stream).knob == codec.last_knob
    decoded = codec.decode(stream, H, W)
    model = load_weights(weights)
    parts = unpack(stream)
    expected = model.decompress(parts.z, parts.y, H, W, level=codec.last_knob / LEVEL_SUBSTEPS)
    assert np.array_equal(decoded, (expected * 255).round().byte()[0].permute(1, 2, 0).numpy())
    with pytest.raises(BudgetTooSmall) as caught:
        codec.encode(IMAGE, sizes[0] - 1)
    assert caught.value.min_bytes == sizes[0]
    fixed = make_codec("hyperprior", {"rate": "variable", "weights": weights, "level": 1.0})
    assert unpack(fixed.encode(IMAGE, None)).knob == LEVEL_SUBSTEPS


def test_configuration_errors(weights, tmp_path) -> None:
    with pytest.raises(CodecConfigError, match="no weights file"):
        make_codec("hyperprior", {"rate": "variable", "weights": str(tmp_path / "none.pt")})
    with pytest.raises(CodecConfigError, match="not a variable-rate model"):
        make_codec("hyperprior", {"rate": "variable", "weights": str(shipped_weights("q1"))})
    with pytest.raises(CodecConfigError, match="level"):
        make_codec("hyperprior", {"rate": "variable", "weights": weights, "level": 2.5})


def test_failures_to_decode_are_counted(codec, tmp_path) -> None:
    stream = codec.encode(IMAGE, None)
    rng = np.random.default_rng(0)
    bad = [corrupt_stream(stream, CORRUPTIONS[i % 3], rng) for i in range(30)]
    beyond = stream[:1] + bytes([16 + KNOBS]) + stream[2:]  # a knob past the model's levels
    batch = [stream, *bad, beyond, b"\x01"]
    decoded = codec.decode_batch(batch, H, W)  # never raises: a failure is a None, counted
    assert decoded[0] is not None and decoded[-1] is None and decoded[-2] is None
    assert all(image is None or image.shape == (H, W, 3) for image in decoded)
    with pytest.raises(DecodeError, match="knob"):
        codec.decode(beyond, H, W)
    elsewhere = make_codec("hyperprior", {"weights": str(tmp_path / "none.pt")})
    with pytest.raises(DecodeError, match="variable-rate stream"):
        elsewhere.decode(stream, H, W)  # a decoder without the model cannot decode its streams


def test_decode_batch_is_decode_per_stream(codec) -> None:
    streams = [codec.write(IMAGE, knob) for knob in (3, 16, 9)]
    streams.append(make_codec("hyperprior", {"rate": "q1"}).encode(IMAGE, None))
    alone = [codec.decode(data, H, W) for data in streams]
    for one, many in zip(alone, codec.decode_batch(streams, H, W), strict=True):
        assert np.array_equal(one, many)


def test_two_step_training_run_with_levels_resumes_from_a_slim_checkpoint(
    resumed_run, tmp_path
) -> None:
    slim = str(tmp_path / "slim.ckpt")  # written at the end of each run, resumed by the second
    args = ["--crop", "64", "--n", "8", "--m", "12", "--levels", "3", "--lmbda-min", "0.001"]
    args += ["--lmbda-max", "0.016", "--autocast", "bf16", "--schedule", "cosine", "--lr", "1e-3"]
    first, _, out = resumed_run(
        train_main, [*args, "--slim-checkpoint", slim], height=64, width=64, resume_args=[slim]
    )
    options = json.loads((out / "options.json").read_text())
    assert (options["levels"], options["autocast"], options["schedule"]) == (3, "bf16", "cosine")
    gains = first["model"]["gain_y.log_gain"][:, 0]  # initialised at sqrt(lambda / lambda_max)
    assert torch.allclose(gains, 0.5 * torch.log(torch.tensor([1 / 16, 1 / 4, 1.0])), atol=1e-2)
    info = torch.load(out / "weights.pt", weights_only=True)["info"]
    assert [round(x, 6) for x in info["lmbda"]] == [0.001, 0.004, 0.016]
    log = (out / "train.log").read_text()
    assert "lr=" in log and "bpp=" in log
    assert math.isfinite(float(log.split("loss=")[-1].split()[0]))
    model = ScaleHyperprior.load(out / "weights.pt")
    assert model.config == HyperpriorConfig(n=8, m=12, levels=3)
    z, y = model.compress(torch.rand(1, 3, 64, 64), level=1.5)
    assert model.decompress(z, y, 64, 64, level=1.5).shape == (1, 3, 64, 64)


def test_shipped_variable_model_spans_its_rates_and_quality_follows() -> None:
    """The shipped model (9 levels) decodes what it codes at its lowest, middle and highest level,
    with more bytes and more PSNR at each. Measured on IMAGE (session 18): 71 / 647 / 1,731
    bytes at 16.75 / 22.01 / 23.18 dB."""
    codec = make_codec("hyperprior", {"rate": "variable"})
    assert codec.knob_count() == LEVEL_SUBSTEPS * 8 + 1
    sizes, psnrs = [], []
    for knob in (0, codec.knob_count() // 2, codec.knob_count() - 1):
        stream = codec.write(IMAGE, knob)
        decoded = codec.decode(stream, H, W).astype(np.float64)
        mse = np.mean((decoded - IMAGE) ** 2)
        sizes.append(len(stream))
        psnrs.append(10 * math.log10(255**2 / mse))
    assert sizes == sorted(sizes) and psnrs == sorted(psnrs)
    assert psnrs[-1] > 22.5
