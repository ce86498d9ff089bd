"""PNG curves from ``summary.csv``: each metric against SNR, and against the bandwidth ratio."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["PLOT_METRICS", "plot_summary", "ratio_label"]

PLOT_METRICS = {
    "psnr": "PSNR [dB]",
    "ms_ssim": "MS-SSIM",
    "lpips": "LPIPS (ST, AlexNet)",
    "lpips_alex": "LPIPS (AlexNet)",
    "miou": "mIoU",
    "fid": "FID",
    "kid": "KID",
    "bpp": "bits per pixel",
    "bler": "BLER",
    "decode_failure_rate": "decode failure rate",
}
REFERENCE = "original"


def ratio_label(ratio: float) -> str:
    """1/48 rather than 0.0208333."""
    frac = Fraction(ratio).limit_denominator(10_000)
    return f"{frac.numerator}/{frac.denominator}" if frac.numerator else "0"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def _lines(ax: plt.Axes, frame: pd.DataFrame, x: str, metric: str) -> None:
    many_channels = frame["channel"].nunique() > 1
    for (codec, channel), rows in frame.groupby(["codec", "channel"], sort=False):
        rows = rows.sort_values(x)
        if codec == REFERENCE and metric == "psnr":
            continue  # the reference's PSNR is the 100 dB cap: drawing it would flatten every curve
        label = f"{codec} / {channel}" if many_channels else codec
        style = "--" if codec == REFERENCE else "-"
        ax.plot(rows[x], rows[metric], style, marker="o", markersize=3, label=label)


def _figure(frame: pd.DataFrame, x: str, xlabel: str, metric: str, title: str, path: Path) -> Path:
    """One PNG: ``metric`` against ``x``, a line per (codec, channel)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    _lines(ax, frame, x, metric)
    ax.set(xlabel=xlabel, ylabel=PLOT_METRICS[metric], title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_summary(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write one PNG per (metric, bandwidth ratio) against SNR and, when several ratios were swept,
    one PNG per (metric, SNR) against the ratio. Metrics with no values are skipped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    metrics = [m for m in PLOT_METRICS if m in summary and summary[m].notna().any()]
    ratios = sorted(summary["bandwidth_ratio"].unique())
    for metric in metrics:
        for ratio in ratios:
            path = out_dir / f"{metric}_vs_snr_rho_{_slug(ratio_label(ratio))}.png"
            frame = summary[summary["bandwidth_ratio"] == ratio]
            title = f"{PLOT_METRICS[metric]} vs SNR, bandwidth ratio {ratio_label(ratio)}"
            written.append(_figure(frame, "snr_db", "SNR (Es/N0) [dB]", metric, title, path))
        if len(ratios) > 1:
            for snr in sorted(summary["snr_db"].unique()):
                path = out_dir / f"{metric}_vs_rho_snr_{_slug(f'{snr:g}')}dB.png"
                frame = summary[summary["snr_db"] == snr]
                title = f"{PLOT_METRICS[metric]} vs bandwidth ratio, SNR {snr:g} dB"
                written.append(
                    _figure(frame, "bandwidth_ratio", "bandwidth ratio k/n", metric, title, path)
                )
    return written
