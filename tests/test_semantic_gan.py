"""Semantic GAN codec: lossless map coding, bitstream, independent latent packets, rate selection,
shipped weights, the ST-LPIPS training loss and a resumable two-step training run."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from corruption import corrupt_stream
from PIL import Image

from simulator.data import make_source
from simulator.data.export import main as export_main
from source_codecs import BudgetTooSmall, DecodeError, make_codec
from source_codecs.layered import ReceivedLayers
from source_codecs.semantic_gan.bitstream import Packets, pack, unpack
from source_codecs.semantic_gan.label_coding import decode_labels, encode_labels
from source_codecs.semantic_gan.latent_coding import decode_stripe, encode_stripes, stripe_bounds
from source_codecs.semantic_gan.model import SemanticGAN
from source_codecs.semantic_gan.quantizer import Quantizer
from source_codecs.semantic_gan.range_coding import PacketEncoder, shortest_packet
from source_codecs.semantic_gan.semantic_map import downscale_map, one_hot, upscale_map
from source_codecs.semantic_gan.train import main as train_main
from source_codecs.semantic_gan.zoo import RATES, ZOO, shipped_weights
from source_codecs.training import load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

H, W = 64, 128
SCENES = make_source("synthetic", root=None, num_images=3, height=H, width=W, seed=0)
IMAGE, LABELS = SCENES[0].image, SCENES[0].labels


def _png_bytes(labels: np.ndarray) -> int:
    buffer = io.BytesIO()
    Image.fromarray(labels).save(buffer, "PNG", optimize=True)
    return len(buffer.getvalue())


# --- label map coding ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(3))
def test_label_coding_is_lossless_and_beats_png_on_scenes(index: int) -> None:
    labels = SCENES[index].labels
    data = encode_labels(labels)
    assert np.array_equal(decode_labels(data, H, W), labels)
    assert len(data) < _png_bytes(labels) / 2


@pytest.mark.parametrize(
    "labels",
    [
        np.random.default_rng(1).integers(0, 256, (17, 23)).astype(np.uint8),  # every value
        np.random.default_rng(2).choice([0, 7, 255], (31, 9)).astype(np.uint8),
        np.kron(np.random.default_rng(3).integers(0, 19, (5, 7)), np.ones((6, 5))).astype(np.uint8),
        np.full((1, 1), 200, np.uint8),
        np.zeros((40, 1), np.uint8),
    ],
)
def test_label_coding_is_lossless_on_arbitrary_maps(labels: np.ndarray) -> None:
    assert np.array_equal(decode_labels(encode_labels(labels), *labels.shape), labels)


def test_flat_map_costs_almost_nothing() -> None:
    assert len(encode_labels(np.full((256, 512), 10, np.uint8))) <= 8


def test_map_scaling_keeps_block_centres() -> None:
    small = downscale_map(LABELS, 4)
    assert small.shape == (16, 32)
    assert np.array_equal(small, LABELS[2::4, 2::4])
    big = upscale_map(small, 4, H, W)
    assert big.shape == (H, W) and np.array_equal(big[2::4, 2::4], small)
    odd = downscale_map(LABELS[:61, :99], 4)
    assert upscale_map(odd, 4, 61, 99).shape == (61, 99)


# --- latent coding and bitstream -----------------------------------------------------------------


def test_latent_stripes_decode_independently() -> None:
    rng = np.random.default_rng(0)
    pmf = rng.dirichlet(np.ones(5), size=4)  # [C=4, L=5]
    symbols = np.stack([rng.choice(5, (10, 8), p=p) for p in pmf])  # [4, 10, 8]
    packets = encode_stripes(symbols, pmf, rows=3)
    bounds = stripe_bounds(10, 3)
    assert bounds == [(0, 3), (3, 6), (6, 9), (9, 10)] and len(packets) == 4
    for (top, end), packet in zip(bounds, packets, strict=True):
        assert np.array_equal(decode_stripe(packet, pmf, end - top, 8), symbols[:, top:end])


def test_shortest_packet_keeps_what_the_decoder_needs() -> None:
    rng = np.random.default_rng(5)
    pmf = np.array([[0.7, 0.1, 0.1, 0.05, 0.05]])
    saved = 0
    for _ in range(20):
        symbols = rng.choice(5, (1, 3, 40), p=pmf[0])
        coder = PacketEncoder()
        coder.code_array(symbols.reshape(-1), np.repeat(pmf, 120, axis=0))
        full = coder.to_bytes()
        (packet,) = encode_stripes(symbols, pmf, rows=3)
        assert len(packet) <= len(full)
        assert np.array_equal(decode_stripe(packet, pmf, 3, 40), symbols)
        saved += len(full) - len(packet)
    assert saved >= 20  # about 1.8 bytes per packet
    assert shortest_packet(b"\x12\x34", lambda p: True) == b""
    assert shortest_packet(b"\x12\x34", lambda p: False) == b"\x12\x34"


def test_bitstream_round_trip_and_malformed_streams() -> None:
    packets = Packets("mid", 4, 2, b"map!", (b"a" * 300, b"", b"ccc"))
    data = pack(packets)
    back = unpack(data, latent_rows=5)  # ceil(5 / 2) = 3 latent packets
    assert (back.rate, back.map_factor, back.rows) == ("mid", 4, 2)
    assert back.map_packet == b"map!" and back.latent_packets == packets.latent_packets
    assert back.spans[0] == (0, 2 + 1 + 2 + 1) and back.spans[-1][1] == len(data)
    with pytest.raises(DecodeError):
        unpack(b"\xff" + data[1:], latent_rows=5)  # wrong version
    with pytest.raises(DecodeError):
        unpack(data[:4], latent_rows=5)  # lengths beyond the stream
    with pytest.raises(DecodeError):
        unpack(data[:1], latent_rows=5)


# --- the codec -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def codec():
    return make_codec("semantic_gan")


@pytest.fixture(scope="module")
def streams(codec) -> dict[str, bytes]:
    return {
        rate: make_codec("semantic_gan", {"rate": rate}).encode(IMAGE, None, labels=LABELS)
        for rate in RATES
    }


def test_shipped_weights_decode_an_image(codec, streams) -> None:
    for point in ZOO:
        assert point.weights.stat().st_size < 16 * 2**20
        assert SemanticGAN.load(point.weights).config.latent_channels == point.latent_channels
    out = codec.decode(streams["low"], H, W)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8 and out.std() > 0
    # More latent channels, more latent bytes (the map's resolution differs between rate points:
    # low's is 1/4, mid's and high's 1/2, so at this small size the map may dominate a stream).
    latent = [sum(map(len, unpack(streams[r], H // 16).latent_packets)) for r in RATES]
    assert latent == sorted(latent) and len(set(latent)) == len(latent)
    assert len(streams["low"]) == min(map(len, streams.values()))


def test_each_rate_point_codes_the_map_at_its_models_resolution(streams) -> None:
    # map_scale: auto (the default) takes each model's training resolution; a number overrides it.
    for rate, stream in streams.items():
        trained = SemanticGAN.load(shipped_weights(rate)).config.map_factor
        assert unpack(stream, H // 16).map_factor == trained
        other = 4 if trained == 2 else 2
        params = {"rate": rate, "map_scale": 1 / other, "fill_map": False}
        forced = make_codec("semantic_gan", params).encode(IMAGE, None, labels=LABELS)
        assert unpack(forced, H // 16).map_factor == other


def test_a_finer_map_is_coded_and_decoded_by_the_weights_trained_at_its_resolution() -> None:
    # The zoo's map_weights: low ships weights trained on maps at 1/2 beside its own (1/4).
    own, finer = shipped_weights("low"), shipped_weights("low", 2)
    assert finer != own and shipped_weights("low", 1) == own  # none trained at full resolution
    assert SemanticGAN.load(own).config.map_factor == 4
    assert SemanticGAN.load(finer).config.map_factor == 2
    codec = make_codec("semantic_gan", {"rate": "low", "map_scale": 0.5})
    stream = codec.encode(IMAGE, None, labels=LABELS)
    received = codec.receive(stream, H, W)
    assert received.map_factor == 2
    # The latent is the finer model's analysis, entropy-coded with its symbol model ...
    x = torch.from_numpy(IMAGE.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    model = SemanticGAN.load(finer)
    with torch.no_grad():
        symbols = model.analyse(x, one_hot(torch.from_numpy(received.labels)[None]))
    assert torch.equal(received.latent, model.quantizer.dequantize(symbols))
    # ... and the finer model paints it: the rate point's own model would paint another image.
    ours = codec.decode(stream, H, W)
    [other] = codec._synthesise([received._replace(map_factor=4)], H, W)
    assert np.array_equal(ours, codec._synthesise([received], H, W)[0])
    assert np.abs(ours.astype(int) - other.astype(int)).mean() > 1


def test_odd_sizes_round_trip(codec) -> None:
    image, labels = IMAGE[:50, :70], LABELS[:50, :70]
    data = codec.encode(image, None, labels=labels)
    assert codec.decode(data, 50, 70).shape == (50, 70, 3)
    rate, decoded_labels, latent, _ = codec.receive(data, 50, 70)
    assert latent.shape[-2:] == (4, 5)
    factor = SemanticGAN.load(shipped_weights(rate)).config.map_factor
    assert np.array_equal(
        decoded_labels, upscale_map(downscale_map(labels, factor), factor, 50, 70)
    )


def test_budget_picks_the_largest_rate_that_fits(codec, streams) -> None:
    sizes = {rate: len(s) for rate, s in streams.items()}
    assert codec.encode(IMAGE, None, labels=LABELS) == streams["high"]
    codec = make_codec("semantic_gan", {"fill_map": False})  # the rate point alone
    for budget in sorted({*sizes.values(), *(size - 1 for size in sizes.values())}):
        fitting = [rate for rate in RATES if sizes[rate] <= budget]  # in the ladder's order
        if fitting:  # the highest rate point that fits, whatever its map costs
            assert codec.encode(IMAGE, budget, labels=LABELS) == streams[fitting[-1]], budget
    assert codec.encode(IMAGE, sizes["low"], labels=LABELS) == streams["low"]
    high_only = make_codec("semantic_gan", {"rate": "high"})
    short = high_only.encode(IMAGE, sizes["low"], labels=LABELS)  # high with packets left out
    assert len(short) <= sizes["low"] and unpack(short, H // 16).rate == "high"
    with pytest.raises(ValueError, match="label map"):
        codec.encode(IMAGE, None)


def test_room_beside_the_rate_point_buys_a_finer_map(streams) -> None:
    def encoded(rate: str, factor: int) -> bytes:
        params = {"rate": rate, "map_scale": 1 / factor}
        return make_codec("semantic_gan", params).encode(IMAGE, None, labels=LABELS)

    low = {factor: encoded("low", factor) for factor in (1, 2)}
    assert len(streams["low"]) < len(low[2]) < len(low[1])
    fixed = make_codec("semantic_gan", {"rate": "low"})  # fill_map: true, enhancement: none
    assert fixed.encode(IMAGE, len(low[2]) - 1, labels=LABELS) == streams["low"]
    assert fixed.encode(IMAGE, len(low[2]), labels=LABELS) == low[2]
    assert fixed.encode(IMAGE, len(low[1]), labels=LABELS) == low[1]
    labels = fixed.receive(low[1], H, W).labels
    assert np.array_equal(labels, LABELS)  # the map arrived at full resolution
    # rate: auto takes the largest rate point that fits first, then the finest map beside it.
    high_full = encoded("high", 1)  # high's own map is 1/2
    auto = make_codec("semantic_gan")
    assert auto.encode(IMAGE, len(high_full), labels=LABELS) == high_full
    assert auto.encode(IMAGE, len(high_full) - 1, labels=LABELS) == streams["high"]
    # No budget or fill_map off: the map stays at map_scale.
    assert auto.encode(IMAGE, None, labels=LABELS) == streams["high"]
    off = make_codec("semantic_gan", {"rate": "low", "fill_map": False})
    assert off.encode(IMAGE, len(low[1]), labels=LABELS) == streams["low"]
    # An enhancement layer to fill: only a finer map with weights of its own (low at 1/2, not the
    # full map that would fit too), the enhancement after it; mid has none finer than its
    # own (1/2), so its map stays.
    layered = make_codec("semantic_gan", {"rate": "low", "enhancement": "auto"})
    packets = unpack(layered.encode(IMAGE, len(low[1]) + 64, labels=LABELS), H // 16)
    assert packets.map_factor == 2 and packets.enhancement
    assert packets.map_packet == unpack(low[2], H // 16).map_packet
    layered_mid = make_codec("semantic_gan", {"rate": "mid", "enhancement": "auto"})
    stream = layered_mid.encode(IMAGE, len(low[1]) + 512, labels=LABELS)
    assert unpack(stream, H // 16).map_factor == unpack(streams["mid"], H // 16).map_factor


def test_below_the_lowest_rate_latent_packets_are_left_out_down_to_the_map() -> None:
    codec = make_codec("semantic_gan", {"latent_rows": 1})  # 4 latent packets at H = 64
    low = make_codec("semantic_gan", {"rate": "low", "latent_rows": 1}).encode(
        IMAGE, None, labels=LABELS
    )
    full = unpack(low, H // 16)
    map_only = pack(Packets("low", full.map_factor, full.rows, full.map_packet, (b"",) * 4))
    one_left_out = codec.encode(IMAGE, len(low) - 1, labels=LABELS)
    packets = unpack(one_left_out, H // 16)
    assert packets.rate == "low" and packets.latent_packets[:3] == full.latent_packets[:3]
    assert packets.latent_packets[3] == b""  # the bottom band first
    latent = codec.receive(one_left_out, H, W).latent
    reference = codec.receive(low, H, W).latent
    assert torch.equal(latent[..., :3, :], reference[..., :3, :])
    band = latent[0, :, 3]
    assert torch.allclose(band, band[:, :1].expand_as(band))  # regenerated from the map alone
    assert codec.encode(IMAGE, len(map_only), labels=LABELS) == map_only
    assert codec.decode(map_only, H, W).shape == (H, W, 3)
    with pytest.raises(BudgetTooSmall) as info:
        codec.encode_base(IMAGE, len(low) - 1, labels=LABELS, leave_out=False)
    assert info.value.min_bytes == len(low)


def test_below_the_map_alone_the_map_is_coded_coarser_down_to_1_32() -> None:
    codec = make_codec("semantic_gan", {"latent_rows": 1})
    lowest = make_codec("semantic_gan", {"rate": "low"})  # the map alone is at low's own map
    full = unpack(lowest.encode(IMAGE, None, labels=LABELS), H // 16)
    streams = {
        factor: pack(
            Packets("low", factor, 1, encode_labels(downscale_map(LABELS, factor)), (b"",) * 4)
        )
        for factor in (full.map_factor, 8, 16, 32)
    }
    sizes = [len(s) for s in streams.values()]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4  # each rung is smaller
    for factor, stream in streams.items():
        assert codec.encode(IMAGE, len(stream), labels=LABELS) == stream
        if factor > full.map_factor:  # one byte short of the finer rung gets this one
            finer = streams[factor // 2]
            assert (
                unpack(codec.encode(IMAGE, len(finer) - 1, labels=LABELS), 4).map_factor == factor
            )
        labels = codec.receive(stream, H, W).labels
        assert np.array_equal(labels, upscale_map(downscale_map(LABELS, factor), factor, H, W))
    with pytest.raises(BudgetTooSmall) as info:
        codec.encode(IMAGE, len(streams[32]) - 1, labels=LABELS)
    assert info.value.min_bytes == len(streams[32])


def test_a_reserved_enhancement_does_not_cost_the_base_its_latent_packets() -> None:
    params = {"rate": "low", "latent_rows": 1, "enhancement": "low"}
    low = make_codec("semantic_gan", {"rate": "low", "latent_rows": 1}).encode(
        IMAGE, None, labels=LABELS
    )
    stream = make_codec("semantic_gan", params).encode(IMAGE, len(low) + 8, labels=LABELS)
    assert all(unpack(stream, H // 16).latent_packets)  # the reservation gave way, not the base


def test_lost_latent_packet_erases_only_its_band(codec) -> None:
    data = make_codec("semantic_gan", {"rate": "high", "latent_rows": 1}).encode(
        IMAGE, None, labels=LABELS
    )
    _, labels, full, _ = codec.receive(data, H, W)
    spans = unpack(data, latent_rows=H // 16).spans  # header, map, 4 latent packets
    assert len(spans) == 6
    erased = np.zeros(len(data), bool)
    erased[spans[3][0]] = True  # one byte of the second latent packet (latent row 1)
    _, labels_e, partial, _ = codec.receive(data, H, W, erased)
    assert np.array_equal(labels, labels_e)
    changed_rows = (partial != full).any(dim=(0, 1, 3)).nonzero().flatten().tolist()
    assert changed_rows == [1]
    band = partial[0, :, 1]
    assert torch.allclose(band, band[:, :1].expand_as(band))  # one expected value per channel
    assert codec.decode_with_erasures(data, H, W, erased).shape == (H, W, 3)
    erased[:] = False
    erased[spans[1][0]] = True  # the map packet
    with pytest.raises(DecodeError):
        codec.decode_with_erasures(data, H, W, erased)


def test_batched_decode_equals_one_image_at_a_time(monkeypatch) -> None:
    """The generator's batches (a GPU's) give each image what it gets alone, up to float rounding
    (a convolution's sums may run in another order: at most one grey level in rare pixels): rate
    points grouped, erasures and a lost map kept per image, the enhancement refined per image."""
    codecs = {
        rate: make_codec("semantic_gan", {"rate": rate, "latent_rows": 1, "enhancement": "low"})
        for rate in ("low", "high")
    }
    received = []
    for i, scene in enumerate([SCENES[0], SCENES[1], SCENES[2]]):
        codec = codecs["low" if i != 1 else "high"]
        base = codec.encode_base(scene.image, None, labels=scene.labels)
        layer = codec.encode_enhancement(scene.image, base, 600)
        erased = np.zeros(len(base), bool)
        spans = unpack(base, H // 16).spans
        erased[spans[3][0]] = i == 2  # image 2 lost a latent packet
        received.append(ReceivedLayers(base, erased, layer if i != 0 else None))
    lost = np.zeros(len(received[0].base), bool)
    lost[unpack(received[0].base, H // 16).spans[1][0]] = True  # the map packet
    received.append(ReceivedLayers(received[0].base, lost, None))
    codec = codecs["low"]  # the stream says its rate point; any instance decodes it
    alone = codec.decode_layers_batch(received, H, W)
    monkeypatch.setattr(type(codec), "network_batch_size", property(lambda self: 3))
    batched = codec.decode_layers_batch(received, H, W)
    assert alone[3] is None and batched[3] is None
    for one, many, item in zip(alone[:3], batched[:3], received[:3], strict=True):
        difference = np.abs(one.astype(np.int16) - many)
        assert difference.max() <= 1 and np.count_nonzero(difference) <= one.size // 1000
        assert np.array_equal(
            one, codec.decode_layers(item.base, item.base_erased, item.enhancement, H, W)
        )
    assert not np.array_equal(alone[0], alone[2])


def _decode_or_error(codec, data: bytes) -> np.ndarray | None:
    """The decoded image (checked well formed), or None if the decoder raised :class:`DecodeError`."""
    try:
        image = codec.decode(data, H, W)
    except DecodeError:
        return None
    assert image.shape == (H, W, 3) and image.dtype == np.uint8
    return image


def test_corrupted_streams_raise_or_decode(codec, streams) -> None:
    """Every corrupted stream either raises :class:`DecodeError` or decodes to a well-formed image
    (no other exception), and every corruption the stream can detect raises: a stream cut short of
    the packets whose lengths its header states never decodes."""
    data = streams["mid"]
    stated = unpack(data, -(-H // 16)).spans[-1][0]  # the last packet runs to the end: no length
    assert 2 < stated < len(data)
    for cut in range(0, stated, max(1, stated // 12)):
        assert _decode_or_error(codec, data[:cut]) is None, f"cut to {cut} of {stated} bytes"
    rng = np.random.default_rng(0)
    for _ in range(12):  # flipped bits or a cut inside the last packet: undetectable, may decode
        _decode_or_error(codec, corrupt_stream(data, "flip_anywhere", rng))
        _decode_or_error(codec, data[: rng.integers(stated, len(data))])


# --- training parts ------------------------------------------------------------------------------


def test_quantizer_hard_values_soft_gradients() -> None:
    q = Quantizer(levels=5).train()
    z = torch.tensor([-3.0, -0.6, 0.2, 1.4, 9.0], requires_grad=True)
    values, symbols = q(z)
    assert symbols.tolist() == [0, 1, 2, 3, 4] and values.tolist() == [-2, -1, 0, 1, 2]
    values.sum().backward()
    assert z.grad is not None and (z.grad.abs() > 0).any()


def test_perceptual_loss_is_the_st_lpips_metric() -> None:
    from simulator.metrics.lpips import load_lpips
    from source_codecs.semantic_gan.perceptual import STLPIPSLoss

    rng = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 48, 64, generator=rng)
    y = (x + 0.2 * torch.rand(2, 3, 48, 64, generator=rng)).clamp(0, 1)
    loss = STLPIPSLoss()(2 * x - 1, 2 * y - 1)
    assert torch.allclose(loss, load_lpips()(x, y).mean(), rtol=1e-4)


def test_export_writes_pairs_and_rejects_unlabelled_sources(tmp_path) -> None:
    args = ["--num-images", "2", "--height", "32", "--width", "48", "--out", str(tmp_path / "d")]
    assert export_main(["--source", "synthetic", *args]) == 0
    images = sorted((tmp_path / "d").glob("*.png"))
    assert len(images) == 2
    labels = np.asarray(Image.open(tmp_path / "d" / "labels" / images[0].name))
    assert labels.shape == (32, 48) and labels.dtype == np.uint8
    assert np.array_equal(
        labels,
        make_source(
            "synthetic", root=None, num_images=2, height=32, width=48, seed=0, split="train"
        )[0].labels,
    )
    assert export_main(["--source", "samples", *args]) == 2


def test_colour_loss_sees_the_colour_of_regions_not_their_texture() -> None:
    from source_codecs.semantic_gan.loss import colour_loss

    real = torch.rand(2, 3, 16, 32) * 0.5
    checker = (torch.arange(16)[:, None] + torch.arange(32)[None, :]) % 2 * 2 - 1.0
    textured = real + 0.3 * checker  # zero mean over every 8x8 block
    assert colour_loss(textured, real).item() < 1e-6 < (textured - real).abs().mean().item()
    assert colour_loss(real + 0.25, real).item() == pytest.approx(0.25, abs=1e-6)


def test_rare_crops_are_placed_on_the_rarest_class(tmp_path) -> None:
    from source_codecs.semantic_gan.dataset import PairFolder

    (tmp_path / "labels").mkdir()
    for i in range(3):  # road everywhere, a 3x3 sign at a different place in each scene
        labels = np.zeros((64, 128), np.uint8)
        labels[:, 64:] = 10  # sky: common
        labels[10 + 20 * i : 13 + 20 * i, 30 + 40 * i : 33 + 40 * i] = 7
        Image.fromarray(labels).save(tmp_path / "labels" / f"{i}.png")
        Image.fromarray(np.zeros((64, 128, 3), np.uint8)).save(tmp_path / f"{i}.png")
    torch.manual_seed(0)
    rare = PairFolder(tmp_path, (16, 32), rare_crops=1.0)
    weights = rare.class_weights  # the class of fewest pixels weighs most
    assert weights[7] > 1e6 * max(weights[0], weights[10])
    assert all((rare[i % 3][1] == 7).any() for i in range(30))
    uniform = PairFolder(tmp_path, (16, 32))
    assert sum(bool((uniform[i % 3][1] == 7).any()) for i in range(30)) < 15
    with pytest.raises(ValueError, match="rare_crops"):
        PairFolder(tmp_path, (16, 32), rare_crops=1.5)


def test_two_step_training_run_resumes(resumed_run) -> None:
    args = ["--rate", "low", "--crop-height", "32", "--crop-width", "64", "--ngf", "2"]
    args += ["--encoder-width", "4", "--ndf", "4", "--workers", "0"]
    first, second, out = resumed_run(
        train_main, args, height=32, width=64, resume_args=["--lambda-rate", "0.1"]
    )
    assert json.loads((out / "options.json").read_text())["ngf"] == 2
    log = (out / "train.log").read_text()
    assert "d=" in log and "lpips=" in log and "bits=" in log
    assert not torch.equal(second["rate_logits"], first["rate_logits"])  # the rate model learns
    model = SemanticGAN.load(out / "weights.pt")
    assert model.config.latent_channels == ZOO[0].latent_channels
    assert torch.allclose(model.pmf().sum(1), torch.ones(2, dtype=torch.float64))


def test_training_continues_from_a_slim_checkpoint(resumed_run, tmp_path) -> None:
    args = ["--rate", "low", "--crop-height", "32", "--crop-width", "64", "--ngf", "2"]
    args += ["--encoder-width", "4", "--ndf", "4", "--workers", "0", "--batch-size", "2"]
    _, _, out = resumed_run(train_main, args, height=32, width=64)
    common = ["--data", str(tmp_path / "data"), *args, "--log-every", "1"]
    slim = tmp_path / "committed" / "semantic_gan_low.ckpt"
    assert train_main([*common, "--out", str(out), "--steps", "3", "--resume",
                       "--slim-checkpoint", str(slim)]) == 0  # fmt: skip
    committed = load_checkpoint(slim)
    assert committed["step"] == 3 and committed["opt_g"]["state"] == {}
    again = tmp_path / "again"
    assert train_main([*common, "--out", str(again), "--steps", "4", "--resume", str(slim)]) == 0
    continued = load_checkpoint(again / "checkpoint.pt")
    assert continued["step"] == 4 and continued["opt_g"]["state"]  # Adam restarted and stepped
    # It started from the committed fp16 weights (cast back exactly) and then trained a step.
    start = {k: v.float() for k, v in committed["model"].items()}
    assert any(not torch.equal(continued["model"][k], v) for k, v in start.items())
    # One Adam step moves a weight by at most the learning rate, 2e-4 (restarted Adam: about it).
    halved = [k for k, v in committed["model"].items() if v.dtype == torch.float16]
    assert halved and max((continued["model"][k] - start[k]).abs().max() for k in halved) < 3e-4


def test_segmentation_critic_learns_and_steers_the_generator(resumed_run) -> None:
    from source_codecs.semantic_gan.critic import SegmentationCritic, critic_loss

    # The critic alone learns a fixed two-class crop (with ignore pixels left out of the loss).
    torch.manual_seed(0)
    image = torch.rand(2, 3, 32, 64) * 2 - 1
    labels = torch.zeros(2, 32, 64, dtype=torch.long)
    labels[:, :, 32:] = 13
    image[:, 0, :, 32:] += 1.0  # class 13 is redder
    labels[:, :4] = 255
    critic = SegmentationCritic(8)
    opt = torch.optim.Adam(critic.parameters(), 1e-2)
    for _ in range(40):
        loss = critic_loss(critic(image), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = critic.eval()(image).argmax(1)
    assert (pred[:, 4:] == labels[:, 4:]).float().mean() > 0.95
    assert critic_loss(torch.zeros(1, 19, 8, 8), torch.full((1, 8, 8), 255)).item() == 0.0
    # In a training run its loss on generated crops joins the generator's after the warm-up, and
    # the critic (its weights and its step count) is part of the resumable checkpoint.
    args = ["--rate", "low", "--crop-height", "32", "--crop-width", "64", "--ngf", "2"]
    args += ["--encoder-width", "4", "--ndf", "4", "--workers", "0", "--lambda-seg", "1"]
    args += ["--critic-width", "4", "--seg-warmup", "1"]
    first, second, out = resumed_run(train_main, args, height=32, width=64)
    assert (first["critic_steps"], second["critic_steps"]) == (2, 3)
    assert any(not torch.equal(first["critic"][k], v) for k, v in second["critic"].items())
    steps = {line.split()[1]: line for line in (out / "train.log").read_text().splitlines()
             if line.startswith("step ")}  # fmt: skip
    assert "seg_real=" in steps["1"] and "seg_fake=" not in steps["1"]
    assert "seg_fake=" in steps["3"]


def test_balanced_critic_loss_weighs_every_present_class_equally() -> None:
    from source_codecs.semantic_gan.critic import critic_loss

    # 63 road pixels and one pole pixel (class 5), with two ignored pixels.
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, 0, 0] = 5
    labels[0, 7, 6:] = 255
    confident = torch.zeros(1, 19, 8, 8)
    confident[:, 0] = 8.0  # road everywhere: right on the road, wrong on the pole
    road_ce, pole_ce = (F.cross_entropy(confident[:, :, 1, 1], torch.tensor([c])).item()
                        for c in (0, 5))  # fmt: skip
    plain = critic_loss(confident, labels).item()
    balanced = critic_loss(confident, labels, balanced=True).item()
    assert plain == pytest.approx((61 * road_ce + pole_ce) / 62, rel=1e-5)
    # Each of the two classes present carries half of the loss, whatever its pixel count.
    assert balanced == pytest.approx((road_ce + pole_ce) / 2, rel=1e-5)
    # With the same error on every pixel the weighting changes nothing (its mean weight is 1).
    uniform = torch.zeros(1, 19, 8, 8)
    assert critic_loss(uniform, labels, balanced=True).item() == pytest.approx(
        critic_loss(uniform, labels).item(), rel=1e-6
    )


def test_boolean_training_options_parse_as_flags() -> None:
    from source_codecs.semantic_gan.train import TrainOptions
    from source_codecs.training import options_parser

    parser = options_parser(TrainOptions, "train", None)
    base = ["--data", "d", "--out", "o"]
    assert parser.parse_args(base).seg_balance is False
    assert parser.parse_args([*base, "--seg-balance"]).seg_balance is True
    assert parser.parse_args([*base, "--seg-balance", "--no-seg-balance"]).seg_balance is False
