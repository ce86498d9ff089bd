"""Paper figures from ``summary.csv``: one multi-panel figure per view.

- ``metrics_vs_snr``: the metrics as rows, the bandwidth ratios as columns, each panel a metric
  against SNR with one line per codec.
- ``metrics_vs_rho`` (only when several bandwidth ratios were swept): the metrics as rows, a few SNRs
  as columns (the lowest, a middle and the highest: :func:`~simulator.output.gallery.gallery_snrs`), each
  panel a metric against the bandwidth ratio, on a log axis labelled with fractions (1/48, 1/24).

With ``per_metric`` (the default of :func:`plot_summary`, ``output.per_metric_plots``) the same
curves are also written one panel per file, the layout of shared/SPEC.md's output contract
(:func:`per_metric_figures`).

With several channels each view is drawn once per channel (``metrics_vs_snr_<channel>``). Every figure
has one legend for all its panels. Each codec keeps its colour, marker and line style in every panel
(open markers of different shapes, so identical curves do not hide each other); the ``original``
reference is a dashed black line without markers. The per-image-mean metrics (PSNR, MS-SSIM, LPIPS)
carry a shaded band: the 95 % confidence interval over the images of each point (``<metric>_ci95``),
clipped to the metric's valid range (:attr:`~simulator.metrics.MetricInfo.valid_range`: MS-SSIM in
[0, 1], LPIPS and PSNR not below 0).
The reference is not drawn where it would flatten the panel: PSNR (capped at 100 dB) and bpp (24).
BLER is on a log axis (a BLER of 0 cannot be drawn there and is left out).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator  # noqa: E402

from simulator.metrics.registry import metric_info  # noqa: E402
from simulator.output.gallery import gallery_snrs  # noqa: E402
from simulator.output.results import CI_METRICS, ratio_label  # noqa: E402

__all__ = [
    "FORMATS",
    "PLOT_METRICS",
    "REFERENCE",
    "confidence_band",
    "panel_stems",
    "per_metric_figures",
    "plot_summary",
    "ratio_label",
    "summary_figures",
]

PLOT_METRICS = {
    "psnr": "PSNR [dB]",
    "ms_ssim": "MS-SSIM",
    "lpips": "LPIPS (ST, AlexNet)",
    "lpips_alex": "LPIPS (AlexNet)",
    "miou": "mIoU",
    "fid": "FID",
    "kid": "KID",
    "bpp": "bits per pixel",
    "bler": "BLER (log)",
    "decode_failure_rate": "decode failure rate",
}
"""The rows of every figure, in order, and their axis labels; a metric without values is left out."""
REFERENCE = "original"
NOT_FOR_REFERENCE = ("psnr", "bpp")  # the 100 dB cap and 24 bpp would flatten every other curve
LOG_METRICS = ("bler",)
FORMATS = ("png", "pdf", "svg")
PNG_DPI = 150

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")
_LINESTYLES = ("-", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
_COLORS = plt.get_cmap("tab10").colors
# Files without a date, so that the same summary draws byte-identical PDF and SVG files.
_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def _styles(codecs: Sequence[str]) -> dict[str, dict]:
    """A fixed look per codec row: the reference dashed black, the others colour, open marker and
    line style each from their own cycle."""
    styles, i = {}, 0
    for codec in codecs:
        if codec == REFERENCE:
            styles[codec] = {"color": "black", "linestyle": "--", "marker": None, "zorder": 3}
            continue
        styles[codec] = {
            "color": _COLORS[i % len(_COLORS)],
            "linestyle": _LINESTYLES[i % len(_LINESTYLES)],
            "marker": _MARKERS[i % len(_MARKERS)],
            "markersize": 6.5 - 0.4 * (i % 5),  # identical points stay visible as nested rings
            "markerfacecolor": "none",
            "markeredgewidth": 1.2,
            "zorder": 4,
        }
        i += 1
    return styles


def _panel(ax: plt.Axes, frame: pd.DataFrame, x: str, metric: str, styles: dict) -> None:
    """``metric`` against ``x`` in ``ax``, a line per codec, a confidence band for mean metrics."""
    band = f"{metric}_ci95" if metric in CI_METRICS else None
    for codec, rows in frame.groupby("codec", sort=False):
        if codec == REFERENCE and metric in NOT_FOR_REFERENCE:
            continue
        rows = rows.sort_values(x)
        y = rows[metric].astype(float)
        if y.isna().all():
            continue
        style = styles[codec]
        ax.plot(rows[x], y, linewidth=1.3, **style)
        if band and band in rows and rows[band].notna().any():
            low, high = confidence_band(metric, y, rows[band].astype(float))
            ax.fill_between(rows[x], low, high, color=style["color"], alpha=0.15, linewidth=0)
    if metric in LOG_METRICS:
        with _empty_panel_ok():
            ax.set_yscale("log", nonpositive="mask")  # zeros cannot be drawn on it: left out
        ax.yaxis.set_minor_formatter(NullFormatter())  # labels at the decades only
        if frame[metric].notna().any() and not (frame[metric] > 0).any():
            ax.text(0.5, 0.5, "no block errors", transform=ax.transAxes, ha="center", color="0.4")
    ax.grid(alpha=0.3, which="both" if metric in LOG_METRICS else "major")


@contextmanager
def _empty_panel_ok() -> Iterator[None]:
    """Silence matplotlib's "no positive values" warning: a panel with nothing drawable (all zeros,
    or no values) shares its row's or column's log axis, and that one panel alone not being
    log-scalable is harmless."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Data has no positive values", UserWarning)
        yield


def confidence_band(
    metric: str, mean: pd.Series, half_width: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """The band ``mean -/+ half_width`` clipped to ``metric``'s valid range: an interval never
    claims values the metric cannot take (an MS-SSIM above 1, an LPIPS below 0)."""
    lowest, highest = metric_info(metric).valid_range
    return (mean - half_width).clip(lowest, highest), (mean + half_width).clip(lowest, highest)


def _ratio_axis(ax: plt.Axes, ratios: Sequence[float]) -> None:
    """A log x axis whose ticks are the swept ratios, written as fractions."""
    with _empty_panel_ok():
        ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(list(ratios)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(list(ratios), [ratio_label(r) for r in ratios])


def _decade_limits(ax: plt.Axes, values: pd.Series) -> None:
    """A log axis (shared by its row) spanning whole decades around the positive ``values``, so
    that it is labelled at the decades (a range inside one decade would get long minor labels);
    1e-4 to 1 where no value is positive (nothing a log axis can draw)."""
    positive = values[values > 0].astype(float)
    if not len(positive):
        ax.set_ylim(1e-4, 1)
        return
    low, high = np.log10(positive.min()), np.log10(positive.max())
    ax.set_ylim(10 ** np.floor(low), 10 ** max(np.ceil(high), np.floor(low) + 1))


# Margins of every figure in inches: room for the tick labels and axis labels at the left and the
# bottom, for the column titles and the legend's rows on top. Fixed margins instead of matplotlib's
# constrained layout, which measured a third of the drawing time (it lays out every artist twice).
_LEFT, _RIGHT, _BOTTOM, _TITLE, _LEGEND_ROW = 0.8, 0.15, 0.5, 0.3, 0.22
_HSPACE, _WSPACE = 0.22, 0.15


def _fixed_margins(
    fig: Figure, size: tuple[float, float], rows: int, cols: int, legend_rows: int
) -> None:
    """Place the panel grid of ``fig`` (``size`` in inches) inside the fixed margins."""
    width, height = size
    top = _TITLE + _LEGEND_ROW * legend_rows + 0.1
    panel_h = (height - top - _BOTTOM - _HSPACE * (rows - 1)) / rows
    panel_w = (width - _LEFT - _RIGHT - _WSPACE * (cols - 1)) / cols
    fig.subplots_adjust(
        left=_LEFT / width,
        right=1 - _RIGHT / width,
        bottom=_BOTTOM / height,
        top=1 - top / height,
        hspace=_HSPACE / panel_h,
        wspace=_WSPACE / panel_w,
    )


def _grid(
    frame: pd.DataFrame,
    metrics: list[str],
    columns: list[tuple[str, pd.DataFrame]],
    x: str,
    xlabel: str,
) -> Figure:
    """Rows = ``metrics``, one column per (title, frame) of ``columns``, one legend on top."""
    styles = _styles(list(dict.fromkeys(frame["codec"])))
    # A one-panel-wide figure (the per-metric files) is widened so its legend fits above it.
    single = len(columns) == 1
    size = (6.4 if single else 0.6 + 3.3 * len(columns), 0.6 + 1.9 * len(metrics) + 1.0 * single)
    ncol = min(len(styles), 2 if single else 4)
    fig, axes = plt.subplots(
        len(metrics), len(columns), figsize=size, sharex="col", sharey="row", squeeze=False
    )
    _fixed_margins(fig, size, len(metrics), len(columns), -(-len(styles) // ncol))
    for col, (heading, part) in enumerate(columns):
        axes[0, col].set_title(heading, fontsize=10)
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            _panel(ax, part, x, metric, styles)
            if x == "bandwidth_ratio":
                _ratio_axis(ax, sorted(frame["bandwidth_ratio"].unique()))
            if col == 0:
                ax.set_ylabel(PLOT_METRICS[metric], fontsize=9)
                if metric in LOG_METRICS:
                    _decade_limits(ax, frame[metric])
            if row == len(metrics) - 1:
                ax.set_xlabel(xlabel, fontsize=9)
            ax.tick_params(labelsize=8)
    handles = [
        Line2D([], [], linewidth=1.3, **{k: v for k, v in style.items() if k != "zorder"})
        for style in styles.values()
    ]
    fig.legend(
        handles,
        list(styles),
        loc="upper center",
        ncol=ncol,
        fontsize=9,
        frameon=False,
    )
    return fig


def _views(summary: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame, list[str]]]:
    """Per channel with something to draw: (file-name suffix, title prefix, rows, metrics)."""
    views = []
    channels = list(dict.fromkeys(summary["channel"]))
    for channel in channels:
        frame = summary[summary["channel"] == channel]
        metrics = [m for m in PLOT_METRICS if m in frame and frame[m].notna().any()]
        if metrics:
            several = len(channels) > 1
            suffix, where = (f"_{_slug(channel)}", f"{channel}, ") if several else ("", "")
            views.append((suffix, where, frame, metrics))
    return views


def _by_ratio(frame: pd.DataFrame, where: str) -> list[tuple[str, float, pd.DataFrame]]:
    """(panel title, ratio, rows) per swept bandwidth ratio, in increasing order."""
    return [
        (f"{where}ρ = {ratio_label(r)}", r, frame[frame["bandwidth_ratio"] == r])
        for r in sorted(frame["bandwidth_ratio"].unique())
    ]


def _by_snr(
    frame: pd.DataFrame, where: str, snrs: Sequence[float]
) -> list[tuple[str, pd.DataFrame]]:
    """(panel title, rows) per SNR of ``snrs``."""
    return [(f"{where}SNR {s:g} dB", frame[frame["snr_db"] == s]) for s in snrs]


SNR_LABEL = "SNR (Es/N0) [dB]"
RHO_LABEL = "bandwidth ratio k/n"


def panel_stems(summary: pd.DataFrame) -> set[str]:
    """The file stems of :func:`summary_figures` (without drawing): the figures the report shows."""
    stems = set()
    for suffix, _, frame, _ in _views(summary):
        stems.add(f"metrics_vs_snr{suffix}")
        if frame["bandwidth_ratio"].nunique() > 1:
            stems.add(f"metrics_vs_rho{suffix}")
    return stems


def summary_figures(summary: pd.DataFrame) -> list[tuple[str, Figure]]:
    """The figures of a summary table as (file stem, figure); see the module docstring. The caller
    closes the figures."""
    figures = []
    for suffix, where, frame, metrics in _views(summary):
        by_ratio = [(title, rows) for title, _, rows in _by_ratio(frame, where)]
        figures.append(
            (f"metrics_vs_snr{suffix}", _grid(frame, metrics, by_ratio, "snr_db", SNR_LABEL))
        )
        if len(by_ratio) > 1:
            by_snr = _by_snr(frame, where, gallery_snrs(frame["snr_db"].tolist()))
            fig = _grid(frame, metrics, by_snr, "bandwidth_ratio", RHO_LABEL)
            figures.append((f"metrics_vs_rho{suffix}", fig))
    return figures


def per_metric_figures(summary: pd.DataFrame) -> Iterator[tuple[str, Figure]]:
    """The one-panel files of shared/SPEC.md's output contract, as (file stem, figure): each metric
    against SNR, one file per metric and bandwidth ratio (``<metric>_vs_snr_rho_1-24``); with several
    ratios also the metrics against the ratio, one file per SNR (``metrics_vs_rho_snr_m2p5dB`` for
    -2.5 dB), every
    swept SNR. Same look as :func:`summary_figures`; drawn one at a time, the caller closes each."""
    for suffix, where, frame, metrics in _views(summary):
        by_ratio = _by_ratio(frame, where)
        for metric in metrics:
            for title, ratio, rows in by_ratio:
                stem = f"{metric}_vs_snr_rho_{ratio_label(ratio).replace('/', '-')}{suffix}"
                yield stem, _grid(frame, [metric], [(title, rows)], "snr_db", SNR_LABEL)
        if len(by_ratio) > 1:
            for snr in sorted(frame["snr_db"].unique()):
                [(title, rows)] = _by_snr(frame, where, [snr])
                tag = f"{snr:g}".replace("-", "m").replace(".", "p")  # -2.5 dB -> m2p5
                stem = f"metrics_vs_rho_snr_{tag}dB{suffix}"
                fig = _grid(frame, metrics, [(title, rows)], "bandwidth_ratio", RHO_LABEL)
                yield stem, fig


def plot_summary(
    summary: pd.DataFrame,
    out_dir: Path,
    formats: Sequence[str] = ("png",),
    per_metric: bool = True,
) -> list[Path]:
    """Draw :func:`summary_figures` (and with ``per_metric`` :func:`per_metric_figures`) into
    ``out_dir``, each in every one of ``formats`` (``png``, ``pdf``, ``svg``); returns the files
    written, figure by figure in the order of ``formats``."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown figure format(s) {unknown}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    figures = summary_figures(summary)
    for stem, fig in chain(figures, per_metric_figures(summary) if per_metric else ()):
        try:
            for fmt in formats:
                path = out_dir / f"{stem}.{fmt}"
                fig.savefig(path, dpi=PNG_DPI, metadata=_METADATA[fmt])
                written.append(path)
        finally:
            plt.close(fig)
    return written
