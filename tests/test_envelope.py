"""``link.mcs: envelope``: every MCS of the set tried at a point, the best by a metric reported."""

from __future__ import annotations

import math
from typing import Any

import pytest

from simulator.config import ConfigError, parse_config
from simulator.link.pipeline import LinkSimulator
from simulator.link.sweep import sweep_points
from simulator.metrics import scores_better

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(mcs: Any, codec: str = "jpeg", **link: Any) -> dict[str, Any]:
    """One small AWGN point: 2 synthetic 64x128 scenes, rho 1/3 (8,192 channel uses: JPEG fits from
    QPSK r=1/3 up), 4 dB, PSNR and MS-SSIM."""
    return {
        "data": {"source": "synthetic", "num_images": 2, "height": 64, "width": 128},
        "codecs": [{"name": codec}],
        "link": {"bandwidth_ratio": "1/3", "snr_db": [4.0], "mcs": mcs, **link},
        "channel": {"model": "awgn"},
        "metrics": ["psnr", "ms_ssim"],
        "output": {"plots": False, "gallery_images": 0},
    }


def _row(config: dict[str, Any]) -> dict[str, Any]:
    """The summary row of the configuration's only point."""
    parsed = parse_config(config)
    [point] = sweep_points(parsed)
    return LinkSimulator(parsed, log=lambda _: None).run_point(point).summary


def test_envelope_reports_the_best_fixed_mcs_run_of_the_same_point() -> None:
    simulator = LinkSimulator(parse_config(_config("envelope")), log=lambda _: None)
    candidates = simulator.setup.envelope_mcs
    assert len(candidates) > 10  # the set mcs: auto picks from
    fixed = []
    for mcs in candidates:
        keys = {"modulation": mcs.modulation, "code_rate": mcs.code_rate}
        fixed.append(_row(_config({**keys, "repetitions": mcs.repetitions})))
    for metric in ("psnr", "ms_ssim"):
        values = [row[metric] for row in fixed]
        best = max(v for v in values if not math.isnan(v))
        assert len({round(v, 6) for v in values}) > 3  # the MCS matters at this point
        winner = fixed[values.index(best)]  # the first (most robust) of equal scores
        assert winner["mcs"] not in (fixed[0]["mcs"], fixed[-1]["mcs"])  # no end of the set wins
        envelope = _row(_config("envelope", envelope_metric=metric))
        assert envelope[metric] == best
        for key in ("mcs", "payload_bytes", "bpp", "bler", "psnr", "ms_ssim"):
            assert envelope[key] == winner[key], (metric, key)


def test_envelope_default_metric_is_the_first_and_the_reference_is_sent_once() -> None:
    parsed = parse_config(_config("envelope", codec="original"))
    assert parsed.envelope_metric == "psnr"
    assert parse_config(_config("auto")).envelope_metric is None
    simulator = LinkSimulator(parsed, log=lambda _: None)
    [point] = sweep_points(parsed)
    [plan] = simulator.transports[point.codec.display_name].plans(point)
    assert plan.links == ()  # the error-free original has no MCS: one plan, as under mcs: auto


def test_lower_is_better_for_distances_and_nan_never_wins() -> None:
    for name in ("lpips", "lpips_alex", "fid", "kid"):
        assert scores_better(name, 0.1, 0.2) and not scores_better(name, 0.2, 0.1)
    for name in ("psnr", "ms_ssim", "miou"):
        assert scores_better(name, 0.2, 0.1) and not scores_better(name, 0.1, 0.2)
    assert not scores_better("psnr", math.nan, 1.0) and scores_better("lpips", 9.0, math.nan)
    assert not scores_better("psnr", 1.0, 1.0)  # a tie keeps the earlier, more robust MCS


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        (
            {"mcs": "envelope", "envelope_metric": "fid"},
            "link.envelope_metric: 'fid' is not computed (metrics: psnr, ms_ssim); add it to "
            "metrics or choose one of them",
        ),
        (
            {"mcs": "envelope", "envelope_metric": "lpip"},
            "link.envelope_metric: invalid value 'lpip'; choose from 'psnr', 'ms_ssim', 'lpips', "
            "'lpips_alex', 'miou', 'fid' or 'kid'; did you mean 'lpips'?",
        ),
        (
            {"mcs": "auto", "envelope_metric": "psnr"},
            "link.envelope_metric: only used with link.mcs: envelope",
        ),
        (
            {"mcs": "envelope", "base_mcs": "envelope"},
            "link.base_mcs: invalid value 'envelope'; choose from 'auto'",
        ),
    ],
)
def test_bad_envelope_keys_name_the_key(link: dict[str, Any], problem: str) -> None:
    config = _config(**link)
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    assert info.value.problems == [problem]
