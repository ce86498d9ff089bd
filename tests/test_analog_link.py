"""Analog codecs on the link: deep JSCC rows through the simulator over AWGN, fading and OFDM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from channels import make_channel
from channels.phy import FECConfig
from simulator.config import ChannelSpec, CodecSpec, parse_config
from simulator.data import make_source
from simulator.link.analog import AnalogTransport
from simulator.link.pipeline import LinkSimulator
from simulator.link.sweep import SweepPoint, sweep_points
from simulator.link.transport import LinkSetup, Plan
from source_codecs import make_codec

pytestmark = pytest.mark.usefixtures("one_thread")

H, W = 64, 128
_SOURCE = make_source("synthetic", root=None, num_images=2, height=H, width=W, seed=0, split="test")
SAMPLES = [_SOURCE[i] for i in range(len(_SOURCE))]
IMAGES = [s.image for s in SAMPLES]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def test_simulator_rows_of_an_analog_codec() -> None:
    config = parse_config(
        {
            "data": {"source": "synthetic", "num_images": 2, "height": H, "width": W},
            "codecs": [{"name": "deepjscc"}],
            "link": {"bandwidth_ratio": "1/48", "snr_db": [-5, 15]},
            "channel": [{"model": "awgn"}, {"model": "rayleigh"}],
            "metrics": ["psnr"],
        }
    )
    simulator = LinkSimulator(config, log=lambda _: None)
    rows = [simulator.run_point(p) for p in sweep_points(config)]
    for result in rows:
        s = result.summary
        assert s["num_symbols"] == H * W // 16 and s["mcs"] == ""
        assert math.isnan(s["bpp"]) and math.isnan(s["ber"]) and math.isnan(s["bler"])
        assert s["decode_failure_rate"] == 0 and s["fit_failure_rate"] == 0
        assert [r["status"] for r in result.per_image] == ["ok", "ok"]
    by_point = {(r.summary["channel"], r.summary["snr_db"]): r.summary["psnr"] for r in rows}
    for channel in ("awgn", "rayleigh"):
        assert by_point[(channel, 15)] > by_point[(channel, -5)] + 1  # no cliff, but SNR matters
    again = simulator.run_point(sweep_points(config)[0])  # same seed, same noise: same numbers
    assert again.summary == rows[0].summary
    assert simulator.codecs["deepjscc"].device == str(simulator.device) == "cpu"


def test_fading_ofdm_and_a_slot_longer_than_k() -> None:
    codec = make_codec("deepjscc")
    k, cpu = H * W // 16, torch.device("cpu")
    fallback = np.full((H, W, 3), 7, dtype=np.uint8)
    slow = make_channel("rayleigh", {"block_length": k})  # one coefficient per image
    ofdm = make_channel("ofdm", {"fft_size": 12, "cyclic_prefix_length": 1, "csi": "ls"})
    assert 0 < ofdm.data_symbols(k) < k  # pilots and cyclic prefix: fewer symbols for the codec
    wide = make_channel("ofdm", {"fft_size": 72})  # one slot is about 1,100 channel uses > K
    channels = {"slow": slow, "ofdm": ofdm, "wide": wide}
    setup = LinkSetup(channels, FECConfig(), "auto", "auto", "fallback", (H, W), fallback, cpu)
    transport = AnalogTransport(setup, codec)

    def deliver(name: str) -> list:
        point = SweepPoint(0, CodecSpec(name="deepjscc"), ChannelSpec(label=name), 1 / 48, 20.0)
        return transport.deliver(SAMPLES, Plan(point, k))

    for name in ("slow", "ofdm"):
        torch.manual_seed(0)
        out = deliver(name)
        assert all(d.num_bytes is None and d.status == "ok" for d in out)
        assert min(_psnr(x, d.image) for x, d in zip(IMAGES, out, strict=True)) > 15
    lost = deliver("wide")
    assert [d.status for d in lost] == ["no_fit", "no_fit"] and lost[0].image is fallback
