"""benchmarks/deepjscc_snr.py: the per-step PSNR gains and target 1's verdicts, and target 2's margins
against the best digital codec, on per-image tables whose answers are known."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import deepjscc_snr as bench  # noqa: E402

SNRS = [10.0, 12.5, 15.0, 17.5, 20.0]
OFFSETS = np.array([-1.0, 0.0, 1.0])  # per image, the same at every point
JITTER = np.array([0.02, -0.04, 0.02])  # per image, mean 0: a nonzero interval, exact mean gains
# Mean PSNR of deep JSCC by rho: 1/24 plateaus after 15 dB (allowed) and falls on the last step;
# 1/48 is flat on the first step (a plateau before 15 dB) and rises everywhere.
MEANS = {1 / 24: [20.0, 21.0, 22.0, 22.05, 22.02], 1 / 48: [20.0, 20.05, 21.0, 22.0, 23.0]}


def _images(codec: str, ratio: float, snr: float, psnr: float, ms_ssim: float, sign: int) -> list:
    return [
        {"codec": codec, "channel": "awgn", "bandwidth_ratio": ratio, "snr_db": snr,
         "image_id": i, "psnr": psnr + OFFSETS[i] + sign * JITTER[i],
         "ms_ssim": ms_ssim + 0.01 * OFFSETS[i]}
        for i in range(len(OFFSETS))
    ]  # fmt: skip


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for ratio, means in MEANS.items():
        for k, (snr, mean) in enumerate(zip(SNRS, means, strict=True)):
            rows += _images("deepjscc", ratio, snr, mean, 0.8, (-1) ** k)
    # Digital at rho 1/24: below deep JSCC at 10 dB (jpeg2000 the better one), above it at 12.5 dB;
    # the 15 dB point lies above --digital-max-snr and is not compared.
    for codec, snr, psnr, ms_ssim in [("bpg", 10.0, 19.0, 0.70), ("jpeg2000", 10.0, 19.5, 0.75),
                                      ("bpg", 12.5, 23.0, 0.90), ("bpg", 15.0, 30.0, 0.99)]:  # fmt: skip
        rows += _images(codec, 1 / 24, snr, psnr, ms_ssim, -1)
    per_image = pd.DataFrame(rows)
    summary = per_image.groupby(bench.POINT, sort=False)[["psnr", "ms_ssim"]].mean().reset_index()
    return summary, per_image


def test_step_gains_and_verdicts(tables) -> None:
    _, per_image = tables
    steps = bench.step_gains(per_image)
    for ratio, means in MEANS.items():
        got = steps[np.isclose(steps["bandwidth_ratio"], ratio)].sort_values("snr_from")
        assert got["snr_from"].tolist() == SNRS[:-1] and got["snr_to"].tolist() == SNRS[1:]
        np.testing.assert_allclose(got["gain"], np.diff(means), atol=1e-9)
        assert (got["gain_ci95"] > 0).all()  # the jitter changes sign between points
    verdicts = bench.rise_verdicts(steps).set_index("bandwidth_ratio")
    assert not verdicts.loc[1 / 24, "rises"] and verdicts.loc[1 / 24, "no_plateau"]
    assert verdicts.loc[1 / 48, "rises"] and not verdicts.loc[1 / 48, "no_plateau"]


def test_comparison_against_the_best_digital_codec(tables) -> None:
    summary, per_image = tables
    compared = bench.comparison(summary, per_image, max_snr=12.5).set_index("snr_db")
    # 15 dB is above max_snr; rho 1/48 has no digital point.
    assert compared.index.tolist() == [10.0, 12.5]
    low, high = compared.loc[10.0], compared.loc[12.5]
    assert low["psnr_best_codec"] == "jpeg2000" and low["psnr_margin"] == pytest.approx(0.5)
    assert low["psnr_pass"] and low["ms_ssim_pass"]
    assert high["psnr_best_codec"] == "bpg" and high["psnr_margin"] == pytest.approx(-2.0)
    assert not high["psnr_pass"] and high["ms_ssim_margin"] == pytest.approx(-0.1)
    assert low["psnr_margin_ci95"] > 0  # paired over the images: only the jitter differs


def test_report_and_figure(tables, tmp_path: Path) -> None:
    summary, per_image = tables
    summary = summary.assign(psnr_ci95=0.3, n_images=3, num_symbols=8192, mcs="qpsk r=0.50",
                             fit_failure_rate=0.0, decode_failure_rate=0.0)  # fmt: skip
    args = argparse.Namespace(weights=bench.shipped_weights(), height=256, width=512,
                              rayleigh_block_length=1, digital_max_snr=12.5)  # fmt: skip
    figure = bench.plot(summary, tmp_path / "figure.png")
    text = bench.report(args, summary, per_image, {"deepjscc": "done"}, "python x", figure)
    assert figure.stat().st_size > 10_000
    assert "**+0.05 +/- " in text and " flat**" in text  # 1/48's first step
    assert " falls**" in text  # 1/24's last step
    assert "PSNR above the best digital codec at 1 of 2 points" in text
