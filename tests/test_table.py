"""The result table printed at the end of a run: codecs x SNR per bandwidth ratio, failures shown."""

from __future__ import annotations

import math

import pandas as pd

from simulator.output.table import LEGEND, compact_table


def _summary(failures: bool) -> pd.DataFrame:
    rows = []
    for codec in ("semantic_gan", "jpeg2000", "original"):
        for ratio in (1 / 48, 1 / 24):
            for snr in (0.0, 10.0, 20.0):
                lost = failures and codec == "jpeg2000" and ratio == 1 / 48
                rows.append(
                    {
                        "codec": codec,
                        "channel": "awgn",
                        "snr_db": snr,
                        "bandwidth_ratio": ratio,
                        "psnr": 14.7 if lost and snr < 20 else 20.0 + snr + ratio,
                        "lpips": 0.3,
                        "miou": math.nan,  # not computed: no block
                        "decode_failure_rate": {0.0: 1.0, 10.0: 3 / 8}.get(snr, 0.0) if lost else 0,
                        "fit_failure_rate": 1.0 if lost and snr == 0 else 0.0,
                        "n_images": 8,
                    }
                )
    return pd.DataFrame(rows)


def test_one_block_per_ratio_and_metric_codecs_by_snr():
    text = compact_table(_summary(failures=False))
    blocks = text.split("\n\n")
    titles = [b.splitlines()[0] for b in blocks]
    assert titles == [
        "awgn, rho 1/48: psnr [dB]",
        "awgn, rho 1/48: lpips",
        "awgn, rho 1/24: psnr [dB]",
        "awgn, rho 1/24: lpips",
    ]
    header, *rows = blocks[0].splitlines()[1:]
    assert header.split() == ["codec", "0", "dB", "10", "dB", "20", "dB"]
    assert [r.split()[0] for r in rows] == ["semantic_gan", "jpeg2000", "original"]
    assert rows[1].split()[1:] == ["20.02", "30.02", "40.02"]
    assert LEGEND not in text  # nothing failed, nothing to explain


def test_failures_show_instead_of_reading_like_results():
    summary = _summary(failures=True)
    summary["fit_failure_rate"] = summary["fit_failure_rate"].astype(int)  # as read from a CSV
    text = compact_table(summary)
    block = text.split("\n\n")[0].splitlines()
    jpeg2000 = next(line for line in block if line.startswith("jpeg2000"))
    assert jpeg2000.split() == ["jpeg2000", "no_fit", "14.7", "(3/8)", "40.02"]
    assert "14.7" not in next(line for line in block if line.startswith("semantic_gan"))
    assert text.endswith(LEGEND)
    other_ratio = text.split("\n\n")[2]
    assert "no_fit" not in other_ratio and "/8)" not in other_ratio
