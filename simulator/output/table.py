"""The result table printed at the end of a run: a compact view of ``summary.csv`` that shows failures.

For each channel, bandwidth ratio and headline metric (:data:`HEADLINE`, those the run computed), one
block with a row per codec and a column per SNR::

    awgn, rho 1/48: psnr [dB]
    codec           0 dB        4 dB   8 dB
    semantic_gan   20.01       21.33  22.67
    jpeg2000      no_fit  16.2 (3/8)  22.67
    original         100         100    100

A cell is the point's mean metric; ``(k/n)`` after it says that k of its n images were not decoded
(lost on the link, undecodable, or not sent because the codec cannot fit the budget) and that their
fallback image is in the mean; ``no_fit`` says that no image fitted the budget at all (nothing was
sent, so the number would only score the fallback). A legend line under the blocks says so.
"""

from __future__ import annotations

import math
import textwrap
from numbers import Real

import pandas as pd

from simulator.output.results import ratio_label

__all__ = ["HEADLINE", "LEGEND", "cell", "compact_table"]

HEADLINE: dict[str, str] = {"psnr": "psnr [dB]", "lpips": "lpips", "miou": "miou"}
"""The metrics the table shows, in order, and their headings; where none was computed, the first
computed of :data:`FALLBACK_METRICS`."""
FALLBACK_METRICS = ("ms_ssim", "lpips_alex", "fid", "kid")
LEGEND = textwrap.fill(
    "(k/n): k of the point's n images were not decoded (lost on the link, undecodable or "
    "not sent); their fallback image is in the mean. no_fit: no image fitted the budget, "
    "nothing was sent.",
    width=100,
)


def cell(row: pd.Series, metric: str) -> str:
    """One point's entry: the metric (4 significant digits), its failures, or ``no_fit``."""
    n = int(row.get("n_images") or 0)
    if n and _rate(row, "fit_failure_rate") == 1.0:
        return "no_fit"
    value = row.get(metric)
    text = f"{value:.4g}" if isinstance(value, Real) and math.isfinite(value) else "-"
    lost = round(_rate(row, "decode_failure_rate") * n)
    return f"{text} ({lost}/{n})" if lost else text


def _rate(row: pd.Series, column: str) -> float:
    value = row.get(column)
    return float(value) if isinstance(value, Real) and math.isfinite(value) else 0.0


def _metrics(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """(column, heading) of the metrics to show: the computed headline ones, else one other."""
    computed = [
        m for m in (*HEADLINE, *FALLBACK_METRICS) if m in summary and summary[m].notna().any()
    ]
    shown = [(m, HEADLINE[m]) for m in computed if m in HEADLINE]
    return shown or [(m, m) for m in computed[:1]]


def _block(frame: pd.DataFrame, metric: str) -> list[str]:
    """Lines of one channel and bandwidth ratio: codecs (rows, in the run's order) x SNR (columns),
    the codec column left-aligned and the cells right-aligned."""
    snrs = sorted(frame["snr_db"].unique())
    codecs = list(dict.fromkeys(frame["codec"]))
    cells = {(r["codec"], r["snr_db"]): cell(r, metric) for _, r in frame.iterrows()}
    rows = [["codec", *(f"{s:g} dB" for s in snrs)]]
    rows += [[c, *(cells.get((c, s), "") for s in snrs)] for c in codecs]
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    return [
        "  ".join(
            [row[0].ljust(widths[0])]
            + [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        )
        for row in rows
    ]


def compact_table(summary: pd.DataFrame) -> str:
    """The table of ``summary`` (summary.csv's rows) as text: see the module docstring."""
    metrics = _metrics(summary)
    if summary.empty or not metrics:
        return "(no metric was computed)"
    channels = list(dict.fromkeys(summary["channel"]))
    blocks = []
    for channel in channels:
        frame = summary[summary["channel"] == channel]
        for ratio in sorted(frame["bandwidth_ratio"].unique()):
            part = frame[frame["bandwidth_ratio"] == ratio]
            for metric, heading in metrics:
                title = f"{channel}, rho {ratio_label(ratio)}: {heading}"
                blocks.append("\n".join([title, *_block(part, metric)]))
    failures = (summary.get("decode_failure_rate", pd.Series(dtype=float)).fillna(0) > 0).any()
    return "\n\n".join(blocks) + (f"\n\n{LEGEND}" if failures else "")
