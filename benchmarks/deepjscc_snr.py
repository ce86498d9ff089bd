"""Deep JSCC against SNR (issue 18's targets), and against BPG and JPEG 2000 on 5G LDPC at low SNR.

    python benchmarks/deepjscc_snr.py [--num-images 100] [--snrs -5 -2.5 ... 20]
        [--ratios 1/96 1/48 1/24] [--channels awgn rayleigh] [--rayleigh-block-length 1]
        [--digital-codecs bpg jpeg2000] [--digital-max-snr 5] [--digital-snrs -5 0 5] [--weights PATH]
        [--workers 2] [--device auto] [--out runs/deepjscc_snr]
        [--report benchmarks/results/deepjscc_snr.md]

Both halves run through the simulator (``simulator.simulate`` with ``resume=True``, so an
interrupted run continues where it stopped), on the same held-out synthetic test scenes (seed 0) at
256x512, with only PSNR and MS-SSIM computed:

- ``OUT/deepjscc_<sha>/``: ``deepjscc`` with the weights file ``--weights`` (default: the shipped
  one; ``<sha>`` = the first 12 hex digits of the file's SHA-256, so that a retrained file never
  resumes into the points of an older one) at every SNR, rho and channel.
- ``OUT/digital/``: the digital codecs over the 5G LDPC link with ``mcs: auto`` at the SNRs up to
  ``--digital-max-snr``, the same rho and channels.

Every scheme gets K = floor(rho * 3 * H * W) complex channel uses per image (the simulator's
accounting), and at each (channel, rho, SNR) the same noise and fading realisations (the channel
seed leaves the codec out). Rayleigh is per-symbol fading (``block_length`` 1 by default) for
both: the channel deep JSCC was trained on and its README measures, and the one that gives the LDPC
codewords the most diversity (the strongest digital baseline; ``snr_sweep.py`` uses blocks of 64).

Targets checked, per channel and rho:

1. deep JSCC's mean PSNR rises at every 2.5 dB step of the sweep, with no plateau (a step gaining
   less than :data:`PLATEAU_DB`) before :data:`PLATEAU_BEFORE_DB`;
2. at every SNR up to ``--digital-max-snr``, deep JSCC's mean PSNR and MS-SSIM are above those of
   the best digital codec at the same point (a digital image that did not arrive or did not fit is
   scored as what the receiver shows: the fallback image).

Gains and margins carry the half-width of a paired 95 % Student-t interval over the images.
Writes ``OUT/summary.csv`` and ``OUT/per_image.csv`` (both halves), the report ``--report`` and its
figure (the report's path with ``.png``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the simulator and codecs of this checkout, not an installed one

from snr_sweep import table  # noqa: E402
from throughput import machine  # noqa: E402

from simulator.output.results import ci95, ratio_label  # noqa: E402
from simulator.output.table import cell  # noqa: E402
from source_codecs.deepjscc.model import shipped_weights  # noqa: E402

REPORT = ROOT / "benchmarks" / "results" / "deepjscc_snr.md"
CODEC = "deepjscc"
METRICS = ["psnr", "ms_ssim"]
SNRS = [-5.0, -2.5, 0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 17.5, 20.0]
PLATEAU_DB = 0.1
"""A step of the SNR sweep whose mean PSNR gain is below this (dB) is a plateau."""
PLATEAU_BEFORE_DB = 15.0
"""Target 1 allows no plateau on the steps that end at or below this SNR (dB)."""


def channel_specs(names: list[str], block_length: int) -> list[dict]:
    """The ``channel`` entries: AWGN, and Rayleigh fading with ``block_length`` symbols per
    coefficient (1: per-symbol fading)."""
    specs = {
        "awgn": {"model": "awgn"},
        "rayleigh": {"model": "rayleigh", "params": {"block_length": block_length}},
    }
    return [specs[name] for name in names]


def weights_tag(path: Path) -> str:
    """The first 12 hex digits of the SHA-256 of a weights file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def experiments(args: argparse.Namespace) -> dict[str, dict]:
    """The configuration of each half, by its folder name under ``args.out``: deep JSCC at every
    SNR, the digital codecs (if any) at the SNRs up to ``args.digital_max_snr``."""

    def config(codecs: list[dict], snrs: list[float], folder: str) -> dict:
        return {
            "seed": 0,
            "device": args.device,
            "data": {
                "source": "synthetic",
                "num_images": args.num_images,
                "height": args.height,
                "width": args.width,
                "split": "test",
            },
            "codecs": codecs,
            "link": {"bandwidth_ratio": args.ratios, "snr_db": snrs, "mcs": "auto"},
            "channel": channel_specs(args.channels, args.rayleigh_block_length),
            "metrics": METRICS,
            "execution": {
                "executor": "processes" if args.workers > 1 else "local",
                "workers": args.workers,
            },
            "output": {"dir": str(args.out / folder), "plots": False, "gallery_images": 0},
        }

    weights = args.weights.resolve()
    deepjscc = {"name": CODEC, "params": {"weights": str(weights)}, "label": CODEC}
    folder = f"{CODEC}_{weights_tag(weights)}"
    out = {folder: config([deepjscc], args.snrs, folder)}
    digital_snrs = args.digital_snrs or [s for s in args.snrs if s <= args.digital_max_snr]
    if args.digital_codecs and digital_snrs:
        codecs = [{"name": c} for c in args.digital_codecs]
        out["digital"] = config(codecs, digital_snrs, "digital")
    return out


def run_experiment(config: dict) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Run (or resume) one half: (summary, per-image rows, what this call did: the points it
    simulated, its wall seconds and the CPU seconds of this process and its finished children)."""
    import simulator
    from simulator.output.results import RunMismatchError

    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        result = simulator.simulate(config, resume=True, quiet=True)
    except RunMismatchError as exc:
        raise SystemExit(
            f"{exc}\nchoose another --out, or remove {config['output']['dir']}"
        ) from None
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    points = result.simulated + result.resumed
    done = f"{result.simulated} of {points} points in {wall:.0f} s wall, {cpu:.0f} s CPU"
    return result.summary, result.per_image, done


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its children that have been waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


POINT = ["codec", "channel", "bandwidth_ratio", "snr_db"]
"""The columns that name a sweep point."""


def by_point(per_image: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` of every image, indexed by :data:`POINT` and ``image_id``."""
    return per_image.set_index([*POINT, "image_id"])[metric].astype(float).sort_index()


def paired(values: pd.Series, a: tuple, b: tuple) -> tuple[float, float]:
    """Mean and 95 % half-width of point ``a``'s values minus point ``b``'s (each a :data:`POINT`
    tuple) over the images both have; ``values`` as :func:`by_point` returns."""
    diff = (values.loc[a] - values.loc[b]).dropna()
    return float(diff.mean()), ci95(diff.tolist())


def step_gains(per_image: pd.DataFrame) -> pd.DataFrame:
    """Deep JSCC's PSNR gain over every step between neighbouring SNRs, per channel and rho.

    :return: columns channel, bandwidth_ratio, snr_from, snr_to (dB), gain, gain_ci95 (dB),
        rises (gain > 0), plateau (gain < :data:`PLATEAU_DB`).
    """
    rows = []
    own = per_image[per_image["codec"] == CODEC]
    psnr = by_point(own, "psnr")
    for (channel, ratio), part in own.groupby(["channel", "bandwidth_ratio"], sort=False):
        snrs = sorted(part["snr_db"].unique())
        for low, high in zip(snrs[:-1], snrs[1:], strict=True):
            gain, half = paired(psnr, (CODEC, channel, ratio, high), (CODEC, channel, ratio, low))
            rows.append(
                {
                    "channel": channel,
                    "bandwidth_ratio": ratio,
                    "snr_from": low,
                    "snr_to": high,
                    "gain": gain,
                    "gain_ci95": half,
                    "rises": gain > 0,
                    "plateau": gain < PLATEAU_DB,
                }
            )
    return pd.DataFrame(rows)


def rise_verdicts(steps: pd.DataFrame) -> pd.DataFrame:
    """Target 1 per channel and rho: ``rises`` (every step gains), ``no_plateau`` (no step ending at
    or below :data:`PLATEAU_BEFORE_DB` gains less than :data:`PLATEAU_DB`)."""
    early = steps["snr_to"] <= PLATEAU_BEFORE_DB + 1e-9
    return (
        steps.assign(early_plateau=steps["plateau"] & early)
        .groupby(["channel", "bandwidth_ratio"], sort=False)
        .agg(rises=("rises", "all"), no_plateau=("early_plateau", lambda p: not p.any()))
        .reset_index()
    )


def comparison(summary: pd.DataFrame, per_image: pd.DataFrame, max_snr: float) -> pd.DataFrame:
    """Target 2: deep JSCC against the best digital codec (by each metric's mean) at every point up
    to ``max_snr`` dB where both ran.

    :return: per (channel, bandwidth_ratio, snr_db): ``<metric>`` (deep JSCC's), ``<metric>_best``,
        ``<metric>_best_codec``, ``<metric>_margin`` and ``<metric>_margin_ci95`` (deep JSCC minus
        the best, paired over the images) and ``<metric>_pass`` (margin > 0), for each metric.
    """
    rows = []
    values = {metric: by_point(per_image, metric) for metric in METRICS}
    ours = summary[summary["codec"] == CODEC].set_index(POINT[1:])
    digital = summary[(summary["codec"] != CODEC) & (summary["snr_db"] <= max_snr + 1e-9)]
    for point, part in digital.groupby(POINT[1:], sort=False):
        if point not in ours.index:
            continue
        row = dict(zip(POINT[1:], point, strict=True))
        for metric in METRICS:
            best = part.loc[part[metric].astype(float).idxmax()]
            margin, half = paired(values[metric], (CODEC, *point), (best["codec"], *point))
            row |= {
                metric: float(ours.loc[point, metric]),
                f"{metric}_best": float(best[metric]),
                f"{metric}_best_codec": best["codec"],
                f"{metric}_margin": margin,
                f"{metric}_margin_ci95": half,
                f"{metric}_pass": margin > 0,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def plot(summary: pd.DataFrame, path: Path) -> Path:
    """PSNR against SNR, a panel per channel: deep JSCC solid, a colour per rho; the digital codecs
    in the same colours, dashed / dotted (their points without an image that arrived score the
    fallback image); shaded: the 95 % interval over the images (the y axis spans the means, so a
    wide interval of a few images does not flatten the curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from simulator.output.plots import confidence_band

    channels = list(dict.fromkeys(summary["channel"]))
    ratios = sorted(summary["bandwidth_ratio"].unique())
    codecs = list(dict.fromkeys([CODEC, *summary["codec"]]))
    styles = dict(zip(codecs, ["-", "--", ":", "-."] * 2, strict=False))
    markers = dict(zip(codecs, ["o", "s", "^", "D"] * 2, strict=False))
    fig, axes = plt.subplots(
        1,
        len(channels),
        figsize=(5.2 * len(channels), 4.4),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, channel in zip(axes[0], channels, strict=True):
        for i, ratio in enumerate(ratios):
            for codec in codecs:
                rows = summary[
                    (summary["channel"] == channel)
                    & (summary["codec"] == codec)
                    & np.isclose(summary["bandwidth_ratio"], ratio)
                ]
                if rows.empty:
                    continue
                rows = rows.sort_values("snr_db")
                ax.plot(
                    rows["snr_db"],
                    rows["psnr"],
                    linestyle=styles[codec],
                    color=f"C{i}",
                    marker=markers[codec],
                    ms=3.5,
                    mfc="none",
                    lw=1.3,
                )
                if rows["psnr_ci95"].notna().any():
                    low, high = confidence_band("psnr", rows["psnr"], rows["psnr_ci95"].fillna(0))
                    alpha = 0.18 if codec == CODEC else 0.07
                    ax.fill_between(rows["snr_db"], low, high, color=f"C{i}", alpha=alpha, lw=0)
        ax.set_title(channel, fontsize=10)
        ax.set_xlabel("SNR (Es/N0, dB)")
        ax.grid(alpha=0.3)
    means = summary["psnr"].astype(float)
    axes[0][0].set_ylim(means.min() - 1, means.max() + 1)
    axes[0][0].set_ylabel("PSNR (dB)")
    handles = [
        Line2D([], [], color=f"C{i}", lw=2, label=f"rho = {ratio_label(r)}")
        for i, r in enumerate(ratios)
    ]
    handles += [
        Line2D(
            [],
            [],
            color="0.3",
            linestyle=styles[c],
            marker=markers[c],
            mfc="none",
            label=c if c == CODEC else f"{c} + 5G LDPC, mcs auto",
        )
        for c in codecs
    ]
    fig.legend(
        handles=handles, loc="outside upper center", ncol=len(handles), fontsize=8, frameon=False
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rho(ratio: float) -> str:
    return str(Fraction(ratio).limit_denominator(1000))


def _met(ok: bool) -> str:
    return "pass" if ok else "**fail**"


def step_table(steps: pd.DataFrame, verdicts: pd.DataFrame) -> list[str]:
    """Markdown: a row per (channel, rho), a column per SNR step (gain, dB; a step that falls or is
    a plateau flagged), then target 1's two verdicts."""
    labels = list(
        dict.fromkeys(
            f"{a:g}->{b:g}" for a, b in zip(steps["snr_from"], steps["snr_to"], strict=True)
        )
    )
    lines = [
        "| channel | rho | " + " | ".join(labels) + " | rises at every step | no plateau "
        f"up to {PLATEAU_BEFORE_DB:g} dB |",
        "|" + "---|" * (len(labels) + 4),
    ]
    for _, verdict in verdicts.iterrows():
        part = steps[
            (steps["channel"] == verdict["channel"])
            & np.isclose(steps["bandwidth_ratio"], verdict["bandwidth_ratio"])
        ]
        cells = {f"{r.snr_from:g}->{r.snr_to:g}": _gain_cell(r) for r in part.itertuples()}
        lines.append(
            f"| {verdict['channel']} | {_rho(verdict['bandwidth_ratio'])} | "
            + " | ".join(cells.get(label, "") for label in labels)
            + f" | {_met(verdict['rises'])} | {_met(verdict['no_plateau'])} |"
        )
    return lines


def _pm(value: float, half: float, digits: int) -> str:
    """``value +/- half`` (signed), or the value alone where the interval is not defined."""
    text = f"{value:+.{digits}f}"
    return f"{text} +/- {half:.{digits}f}" if np.isfinite(half) else text


def _gain_cell(step: object) -> str:
    text = _pm(step.gain, step.gain_ci95, 2)
    if not step.rises:
        return f"**{text} falls**"
    if step.plateau and step.snr_to <= PLATEAU_BEFORE_DB + 1e-9:
        return f"**{text} flat**"
    return text


def comparison_table(compared: pd.DataFrame, summary: pd.DataFrame, channel: str) -> list[str]:
    """Markdown: target 2 on ``channel``, a row per (rho, SNR); a digital codec's cell is its
    mean PSNR as :func:`simulator.output.table.cell` writes it (``no_fit``, ``(k/n)`` lost) and
    its MCS."""
    codecs = [c for c in dict.fromkeys(summary["codec"]) if c != CODEC]
    points = summary.set_index(POINT)
    heads = [
        "rho",
        "SNR (dB)",
        "deepjscc PSNR",
        *(f"{c} PSNR [MCS]" for c in codecs),
        "PSNR margin (dB)",
        "PSNR target",
        "deepjscc MS-SSIM",
        "best digital MS-SSIM",
        "MS-SSIM margin",
        "MS-SSIM target",
    ]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row in compared[compared["channel"] == channel].itertuples():
        digital = []
        for codec in codecs:
            key = (codec, channel, row.bandwidth_ratio, row.snr_db)
            point = points.loc[key] if key in points.index else None
            mcs = point.get("mcs") if point is not None else None
            text = cell(point, "psnr") if point is not None else ""
            digital.append(f"{text} [{mcs}]" if isinstance(mcs, str) and mcs else text)
        cells = [
            _rho(row.bandwidth_ratio),
            f"{row.snr_db:g}",
            f"{row.psnr:.2f}",
            *digital,
            _pm(row.psnr_margin, row.psnr_margin_ci95, 2),
            _met(row.psnr_pass),
            f"{row.ms_ssim:.4f}",
            f"{row.ms_ssim_best:.4f} ({row.ms_ssim_best_codec})",
            _pm(row.ms_ssim_margin, row.ms_ssim_margin_ci95, 4),
            _met(row.ms_ssim_pass),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report(
    args: argparse.Namespace,
    summary: pd.DataFrame,
    per_image: pd.DataFrame,
    work: dict[str, str],
    command: str,
    figure: Path,
) -> str:
    """The markdown report."""
    ours = summary[summary["codec"] == CODEC]
    steps = step_gains(per_image)
    compared = comparison(summary, per_image, args.digital_max_snr)
    weights = args.weights.resolve()
    shown = weights.relative_to(ROOT) if weights.is_relative_to(ROOT) else weights
    n = int(ours["n_images"].max())
    ks = ", ".join(
        f"{_rho(r)}: K = {int(k)}"
        for r, k in ours.groupby("bandwidth_ratio")["num_symbols"].first().items()
    )
    lines = [
        "# Deep JSCC against SNR, and against BPG and JPEG 2000 on 5G LDPC at low SNR",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}; {time.strftime('%Y-%m-%d')}. Simulated by this command (the rest "
        "resumed from an earlier one): " + "; ".join(f"`{k}` {v}" for k, v in work.items()),
        "",
        f"N = {n} held-out synthetic street scenes (test split, seed 0) at "
        f"{args.height}x{args.width}. Weights: `{shown}` (SHA-256 {weights_tag(weights)}...). "
        "Every scheme gets K = "
        f"floor(rho * 3 * H * W) complex channel uses per image ({ks}); SNR = Es/N0. Rayleigh: "
        f"`block_length: {args.rayleigh_block_length}` for every codec (per-symbol fading at 1, "
        "the channel deep JSCC was trained on; zero forcing with perfect CSI), the same noise and "
        "fading realisations for every codec at a point. Digital codecs: 5G LDPC (n = 1024, 20 "
        "iterations), `mcs: auto`; an image that did not arrive (`(k/n)`: k of n) or did not fit "
        "(`no_fit`) is scored as the receiver's fallback image. +/- = the half-width of the 95 % "
        "Student-t interval over the images (paired for gains and margins).",
        "",
        f"Figure: `{figure.relative_to(ROOT) if figure.is_relative_to(ROOT) else figure}`",
        "",
        "## Target 1: PSNR rises with SNR at every step, no plateau before "
        f"{PLATEAU_BEFORE_DB:g} dB",
        "",
        f"Gain of mean PSNR over each step (dB). Flagged: **falls** (gain <= 0), **flat** (gain < "
        f"{PLATEAU_DB:g} dB on a step ending at or below {PLATEAU_BEFORE_DB:g} dB).",
        "",
        *(step_table(steps, rise_verdicts(steps)) if len(steps) else ["(one SNR: no step)"]),
        "",
        "### deepjscc PSNR (dB)",
        "",
    ]
    for channel, frame in ours.groupby("channel", sort=False):
        lines += [f"{channel}:", "", table(frame, "psnr", ".2f"), ""]
    lines += ["### deepjscc MS-SSIM", ""]
    for channel, frame in ours.groupby("channel", sort=False):
        lines += [f"{channel}:", "", table(frame, "ms_ssim", ".4f"), ""]
    if len(compared):
        lines += [
            f"## Target 2: deep JSCC above BPG and JPEG 2000 at SNR <= {args.digital_max_snr:g} dB",
            "",
            "Margin = deep JSCC minus the best digital codec at the point (by that metric's mean); "
            "target met where the margin is positive.",
            "",
        ]
        for channel in dict.fromkeys(compared["channel"]):
            part = compared[compared["channel"] == channel]
            lines += [
                f"### {channel}: PSNR above the best digital codec at "
                f"{int(part['psnr_pass'].sum())} of {len(part)} points, MS-SSIM at "
                f"{int(part['ms_ssim_pass'].sum())} of {len(part)}",
                "",
                *comparison_table(compared, summary, channel),
                "",
            ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-images", type=int, default=100)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--snrs", nargs="+", type=float, default=SNRS, help="dB (Es/N0)")
    parser.add_argument("--ratios", nargs="+", default=["1/96", "1/48", "1/24"])
    parser.add_argument(
        "--channels", nargs="+", choices=["awgn", "rayleigh"], default=["awgn", "rayleigh"]
    )
    parser.add_argument(
        "--rayleigh-block-length",
        type=int,
        default=1,
        help="symbols per Rayleigh coefficient, for every codec (1: per symbol)",
    )
    parser.add_argument("--digital-codecs", nargs="*", default=["bpg", "jpeg2000"])
    parser.add_argument(
        "--digital-max-snr",
        type=float,
        default=5.0,
        help="the digital codecs run at the SNRs up to this (dB)",
    )
    parser.add_argument(
        "--digital-snrs",
        nargs="+",
        type=float,
        default=None,
        help="the digital codecs' SNRs instead (dB; each at most --digital-max-snr)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=shipped_weights(),
        help="deep JSCC weights file (default: the shipped one)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "deepjscc_snr")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if not args.weights.is_file():
        parser.error(f"--weights: no file {args.weights}")
    if args.digital_snrs and max(args.digital_snrs) > args.digital_max_snr:
        parser.error("--digital-snrs: every SNR must be at most --digital-max-snr")
    args.ratios = [float(Fraction(r)) for r in args.ratios]
    args.out.mkdir(parents=True, exist_ok=True)
    work, summaries, per_images = {}, [], []
    for name, config in experiments(args).items():
        summary, per_image, work[name] = run_experiment(config)
        summaries.append(summary)
        per_images.append(per_image)
        print(f"{name}: {work[name]}", flush=True)
    summary = pd.concat(summaries, ignore_index=True)
    per_image = pd.concat(per_images, ignore_index=True)
    summary.to_csv(args.out / "summary.csv", index=False)
    per_image.to_csv(args.out / "per_image.csv", index=False)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    figure = plot(summary, args.report.with_suffix(".png"))
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/deepjscc_snr.py", *given])
    args.report.write_text(report(args, summary, per_image, work, command, figure) + "\n")
    print(f"wrote {args.report}, {figure} and {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
