"""Layered transmission: the semantic GAN's enhancement layer, the channel-use split between the layers,
per-layer MCS, and what the receiver shows when a layer is lost."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from channels import AWGNChannel
from channels.base import channel_data_symbols
from channels.family import channel_family
from channels.phy import MCS, DigitalLink, FECConfig
from channels.phy.adaptation import LAYER_TARGETS
from channels.phy.framing import CodewordLayout
from channels.phy.measure_tables import bler_table, candidate_mcs
from simulator.config import ChannelSpec, CodecSpec, ConfigError, parse_config
from simulator.data import make_source
from simulator.link.layered import LayeredTransport, channel_uses_for, encode_layered
from simulator.link.pipeline import LinkSimulator
from simulator.link.sweep import SweepPoint, num_channel_symbols, sweep_points
from simulator.link.transport import LinkSetup, Plan
from source_codecs import make_codec
from source_codecs.semantic_gan.bitstream import unpack
from source_codecs.semantic_gan.enhancement import CHOICES, MODES, residual_image
from source_codecs.semantic_gan.perceptual import STLPIPSLoss

pytestmark = pytest.mark.usefixtures("one_thread")

H, W = 64, 128
_SOURCE = make_source("synthetic", root=None, num_images=2, height=H, width=W, seed=0, split="test")
SCENES = [_SOURCE[i] for i in range(len(_SOURCE))]
FEC = FECConfig(code="ldpc5g", n=1024, iterations=20)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def _link(modulation: str, rate: float) -> DigitalLink:
    return DigitalLink(MCS(modulation, rate), FEC, AWGNChannel())


def test_residual_image_is_the_halved_offset_difference() -> None:
    image = np.array([[[0, 128, 255]]], dtype=np.uint8)
    base = np.array([[[255, 128, 0]]], dtype=np.uint8)
    assert residual_image(image, base).tolist() == [
        [[0, 128, 255]]
    ]  # -255 -> 0, 0 -> 128, 255 -> 255


@pytest.mark.parametrize("residual_codec", ["bpg", "hyperprior_residual"])
def test_enhancement_layer_refines_and_is_dropped_when_lost(residual_codec: str) -> None:
    sample = SCENES[0]
    # The layered stream's base layer: low with its map at 1/2, which it has weights for (a base
    # alone would fill its budget with a finer map still).
    base_codec = make_codec("semantic_gan", {"rate": "low", "map_scale": 0.5, "fill_map": False})
    params = {"rate": "low", "enhancement": "auto", "enhancement_codec": residual_codec}
    codec = make_codec("semantic_gan", params)
    base_stream = base_codec.encode(sample.image, 2000, labels=sample.labels)
    stream = codec.encode(sample.image, 2000, labels=sample.labels)
    assert len(base_stream) < len(stream) <= 2000
    packets = unpack(stream, H // 16)
    assert packets.enhancement and packets.spans[-1][1] == len(stream)
    base = base_codec.decode(base_stream, H, W)
    refined = codec.decode(stream, H, W)
    assert _psnr(sample.image, refined) > _psnr(sample.image, base) + 2
    erased = np.zeros(len(stream), dtype=bool)
    erased[-1] = True  # one byte of the enhancement layer lost: the base is shown
    assert np.array_equal(codec.decode_with_erasures(stream, H, W, erased), base)


def test_enhancement_mode_image_replaces_the_base_and_auto_keeps_the_closer() -> None:
    sample = SCENES[0]

    def layered(mode: str) -> tuple[bytes, np.ndarray]:
        params = {"rate": "low", "enhancement": "auto", "enhancement_mode": mode}
        codec = make_codec("semantic_gan", params)
        stream = codec.encode(sample.image, 2500, labels=sample.labels)
        assert len(stream) <= 2500
        return unpack(stream, H // 16).enhancement, codec.decode(stream, H, W)

    layers = {mode: layered(mode) for mode in CHOICES}
    for mode in MODES:  # the layer's first byte says what it carries
        assert layers[mode][0][0] == MODES.index(mode)
    # The image layer is BPG's picture of the image itself, whatever the base painted.
    bpg = make_codec("bpg")
    assert np.array_equal(layers["image"][1], bpg.decode(layers["image"][0][1:], H, W))
    # auto_* sends the mode whose reconstruction is closer to the image, byte for byte that layer.
    lpips = STLPIPSLoss()

    def as_input(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1

    distances = {
        "auto_mse": lambda a: np.square(a.astype(float) - sample.image).sum(),
        "auto_lpips": lambda a: float(lpips(as_input(a), as_input(sample.image))),
    }
    for choice, distance in distances.items():
        closer = min(MODES, key=lambda m, d=distance: d(layers[m][1]))
        assert layers[choice][0] == layers[closer][0], choice
        assert np.array_equal(layers[choice][1], layers[closer][1])


def test_an_enhancement_layer_with_an_unknown_mode_shows_the_base() -> None:
    sample = SCENES[0]
    codec = make_codec("semantic_gan", {"rate": "low", "enhancement": "auto"})
    stream = codec.encode(sample.image, 2500, labels=sample.labels)
    packets = unpack(stream, H // 16)
    start = packets.spans[-1][0]
    broken = bytearray(stream)
    broken[start] = len(MODES)  # no such mode
    erased = np.zeros(len(stream), dtype=bool)
    erased[start:] = True
    base = codec.decode_with_erasures(stream, H, W, erased)  # the enhancement lost
    assert np.array_equal(codec.decode(bytes(broken), H, W), base)
    assert not np.array_equal(codec.decode(stream, H, W), base)


def test_fixed_enhancement_levels_grow_and_respect_the_budget() -> None:
    sample = SCENES[1]
    sizes = []
    for level in ("none", "mid", "high"):  # "low" (51 bytes here) is below BPG's smallest stream
        params = {"rate": "low", "enhancement": level, "fill_map": False}  # "none": the bare base
        codec = make_codec("semantic_gan", params)
        sizes.append(len(codec.encode(sample.image, 10_000, labels=sample.labels)))
    assert sizes[0] < sizes[1] < sizes[2] <= sizes[0] + 0.4 * H * W / 8 + 3
    tight = make_codec("semantic_gan", {"rate": "auto", "enhancement": "mid"})
    assert len(tight.encode(sample.image, 400, labels=sample.labels)) <= 400


def test_channel_uses_for_is_the_fewest_that_carry_the_payload() -> None:
    link = _link("qpsk", 0.5)
    for num_bytes in (1, 60, 61, 500):
        uses = channel_uses_for(link, num_bytes, 10_000)
        assert link.payload_bytes(uses) >= num_bytes > link.payload_bytes(uses - 1)
    assert channel_uses_for(link, 10**6, 1000) == 1001


def test_layers_share_the_budget_of_channel_uses() -> None:
    codec = make_codec("semantic_gan", {"rate": "low", "enhancement": "auto"})
    base_link, enhancement_link = _link("qpsk", 1 / 3), _link("16qam", 0.5)
    for k in (4500, 6000):  # the base (low, its map at 1/2) takes about 3,500 of them
        streams = encode_layered(codec, SCENES[0], base_link, enhancement_link, k)
        used = channel_uses_for(base_link, len(streams.base), k)
        used += channel_uses_for(enhancement_link, len(streams.enhancement), k)
        assert streams.enhancement and used <= k
    assert encode_layered(codec, SCENES[0], base_link, enhancement_link, 100).base is None


def test_lost_enhancement_leaves_the_base_and_clean_link_delivers_both() -> None:
    codec = make_codec("semantic_gan", {"rate": "low", "enhancement": "auto"})
    fallback = np.zeros((H, W, 3), dtype=np.uint8)
    links = (_link("bpsk", 1 / 3), _link("64qam", 5 / 6))  # robust base, fragile enhancement
    channels = {"awgn": links[0].channel}
    cpu = torch.device("cpu")
    setup = LinkSetup(channels, FEC, "auto", "auto", "fallback", (H, W), fallback, cpu)
    transport = LayeredTransport(setup, codec)

    def deliver(snr_db: float) -> list:
        point = SweepPoint(0, CodecSpec(name="sg"), ChannelSpec(), 1 / 48, snr_db)
        torch.manual_seed(0)
        return transport.deliver(SCENES, Plan(point, 5000, links))

    good, bad = deliver(30.0), deliver(6.0)
    for scene, g, b in zip(SCENES, good, bad, strict=True):
        streams = encode_layered(codec, scene, *links, 5000)  # what was sent, encoded afresh
        assert g.status == "ok" and b.status == "partial"
        both = codec.decode_layers(streams.base, None, streams.enhancement, H, W)
        assert np.array_equal(g.image, both)
        assert np.array_equal(b.image, codec.decode(streams.base, H, W))
        assert g.num_bytes == b.num_bytes == len(streams.base) + len(streams.enhancement)
        assert b.codeword_errors > 0 and g.codeword_errors == 0


def test_base_mcs_is_validated_like_mcs() -> None:
    raw = {"link": {"base_mcs": {"modulation": "qpsk", "code_rate": 0.1}}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert any(p.startswith("link.base_mcs.code_rate") for p in err.value.problems)
    config = parse_config({"link": {"base_mcs": {"modulation": "bpsk", "code_rate": 0.33}}})
    assert config.link.base_mcs.modulation == "bpsk" and config.link.mcs == "auto"


def _speed(mcs: MCS) -> float:
    """Payload bits per channel symbol of ``mcs`` under :data:`FEC`."""
    return CodewordLayout.of(mcs, FEC).payload_bits_per_symbol


def test_auto_mcs_of_a_point_bounds_the_loss_of_the_data_symbols_it_has() -> None:
    config = parse_config(
        {
            "data": {"source": "synthetic", "num_images": 1, "height": 256, "width": 512},
            "codecs": [{"name": "jpeg"}],
            "link": {"bandwidth_ratio": "1/24", "snr_db": [-5, 0, 10, 20]},
            "channel": [{"model": "awgn"}, {"model": "ofdm"}],
            "metrics": ["psnr"],
        }
    )
    simulator = LinkSimulator(config, log=lambda _: None)
    uses = num_channel_symbols(1 / 24, 256, 512)
    for point in sweep_points(config):
        channel = simulator.channels[point.channel.display_name]
        data = channel_data_symbols(channel, uses)
        assert (data == uses) == (point.channel.model == "awgn")  # OFDM pays for pilots and CP
        table = bler_table(FEC, channel_family(channel))
        candidates = [m for m in candidate_mcs(FEC) if m.name in table.errors]

        def meets(mcs: MCS, target: float, table=table, data=data, snr=point.snr_db) -> bool:
            """A block of ``data`` symbols filled with ``mcs`` codewords is lost at most ``target``:
            P(at least one of its n independent codewords fails) = 1 - (1 - BLER)^n."""
            codewords = max(1, data // CodewordLayout.of(mcs, FEC).symbols_per_codeword)
            return 1.0 - (1.0 - table.bler(mcs.name, snr)) ** codewords <= target

        for layer in ("single", "base", "enhancement"):
            target = LAYER_TARGETS[layer]
            chosen = simulator.setup.mcs_for(point, layer)
            if meets(chosen, target):  # met, and no faster candidate meets it
                assert not any(meets(m, target) for m in candidates if _speed(m) > _speed(chosen))
            else:  # nothing meets it: the most robust candidate
                assert chosen == candidates[0]
                assert not any(meets(m, target) for m in candidates)
    low = [p for p in sweep_points(config) if p.snr_db == -5][0]
    # at -5 dB on AWGN BPSK r=0.21 lost 5 of 12,000 codewords (4.2e-4), under the 6.3e-4 each of 16
    # may lose for the base's 1 % (a 300-codeword table could only read <= 1 % and sent it twice)
    names = {simulator.setup.mcs_for(low, layer).name for layer in ("single", "base")}
    assert names == {"bpsk r=0.21"}


def test_a_fixed_mcs_keeps_its_repetitions() -> None:
    config = parse_config(
        {
            "data": {"source": "synthetic", "num_images": 1, "height": 64, "width": 128},
            "codecs": [{"name": "jpeg"}],
            "link": {
                "snr_db": [0],
                "base_mcs": {"modulation": "bpsk", "code_rate": 0.21, "repetitions": 4},
            },
            "metrics": ["psnr"],
        }
    )
    simulator = LinkSimulator(config, log=lambda _: None)
    for point in sweep_points(config):
        assert simulator.setup.mcs_for(point, "base") == MCS("bpsk", 0.21, repetitions=4)
