"""Rate against perception and semantics, error-free: the semantic GAN codec against every codec.

    python benchmarks/rate_perception.py [--num-images 200] [--codecs ...] [--bpp 0.02 0.035 0.06 0.12 0.25]

On held-out synthetic test scenes (256x512, seed 0): ``semantic_gan`` at each rate point (base layer
only), every classical codec rate-controlled to each target bpp, ``hyperprior`` at its rate points and
``original``. Scores bpp, mIoU, LPIPS, FID, KID, PSNR and MS-SSIM, checks the targets of the semantic
GAN issue and writes ``benchmarks/results/rate_perception.md`` with one plot per metric in
``benchmarks/results/rate_perception/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from error_free import (
    add_rows_args,
    bench_parser,
    evaluate,
    load_scenes,
    make_scorer,
    markdown_table,
    measured_or_merged,
    save_axes,
    write_report,
)

from source_codecs import make_codec

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "rate_perception.md"
CLASSICAL = ["jpeg2000", "bpg", "webp", "jpeg", "avif", "jpegxl", "vvc"]
METRIC_COLUMNS = ["miou", "lpips", "fid", "kid", "psnr", "ms_ssim"]


def points(args: argparse.Namespace) -> list[tuple[str, str, dict, float | None]]:
    """(codec row, codec name, params, target bpp or None) of every point of ``args.parts``."""
    out = []
    gan = {} if args.map_scale == "auto" else {"map_scale": float(args.map_scale)}
    if "learned" in args.parts:
        out += [("semantic_gan", "semantic_gan", {"rate": r, **gan}, None) for r in args.gan_rates]
    if "classical" in args.parts:
        out += [(c, c, {}, bpp) for c in args.codecs for bpp in args.bpp]
    if "learned" in args.parts:
        if "hyperprior" in args.learned:
            out += [("hyperprior", "hyperprior", {"rate": q}, None) for q in ("q1", "q2", "q3")]
        if not args.skip_original:
            out += [("original", "original", {}, None)]
    return out


def measure(args: argparse.Namespace) -> pd.DataFrame:
    """Evaluate every point of ``args.parts`` on ``args.num_images`` scenes; ``seconds`` per point."""
    samples, fallback = load_scenes(args.num_images)
    scorer = make_scorer(samples, args.device)
    pixels = samples[0].image.shape[0] * samples[0].image.shape[1]
    rows = []
    for row, name, params, bpp in points(args):
        started = time.perf_counter()
        budget = None if bpp is None else int(bpp * pixels / 8)
        result = evaluate(make_codec(name, params), samples, fallback, scorer, budget)
        label = ",".join(f"{k}={v}" for k, v in params.items()) or (f"target={bpp}" if bpp else "")
        rows.append({"codec": row, "params": label, **{k: v for k, v in result.items()
                                                        if k != "bytes"},
                     "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def interpolate(frame: pd.DataFrame, codec: str, bpp: float, metric: str) -> float:
    """``codec``'s ``metric`` at ``bpp`` (linear in log bpp between its points; NaN outside)."""
    rows = frame[(frame["codec"] == codec) & (frame["fit"] == 1.0)].sort_values("bpp")
    if len(rows) < 2 or not rows["bpp"].min() <= bpp <= rows["bpp"].max():
        return float("nan")
    return float(np.interp(np.log(bpp), np.log(rows["bpp"]), rows[metric]))


def bpp_for(frame: pd.DataFrame, codec: str, metric: str, value: float) -> tuple[float, bool]:
    """The bpp at which ``codec`` first reaches ``metric`` >= ``value`` (interpolated in log bpp), and
    whether that is only an upper bound (its lowest measured point already reaches it). NaN if never."""
    rows = frame[(frame["codec"] == codec) & (frame["fit"] == 1.0)].sort_values("bpp")
    xs, ys = np.log(rows["bpp"].to_numpy()), rows[metric].to_numpy()
    for i in range(len(ys)):
        if ys[i] >= value:
            if i == 0:
                return float(np.exp(xs[0])), True
            t = (value - ys[i - 1]) / (ys[i] - ys[i - 1])
            return float(np.exp(xs[i - 1] + t * (xs[i] - xs[i - 1]))), False
    return float("nan"), False


def targets(frame: pd.DataFrame, codecs: list[str]) -> list[str]:
    """The semantic GAN issue's three targets, measured."""
    sg = frame[frame["codec"] == "semantic_gan"].set_index("params")
    original = float(frame.loc[frame["codec"] == "original", "miou"].iloc[0])
    low, mid = sg.loc["rate=low"], sg.loc["rate=mid"]
    lines = [
        f"- lowest rate point: {low['bpp']:.4f} bpp, mIoU {low['miou']:.3f} = "
        f"{100 * low['miou'] / original:.0f} % of `original`'s {original:.3f} (target: <= 0.05 bpp "
        f"and >= 90 %: {'met' if low['bpp'] <= 0.05 and low['miou'] >= 0.9 * original else 'missed'})",
    ]
    for metric in ("lpips", "fid"):
        wins, total = 0, 0
        for _, row in sg.iterrows():
            for codec in codecs:
                other = interpolate(frame, codec, row["bpp"], metric)
                if not np.isnan(other):
                    total += 1
                    wins += row[metric] < other
        lines.append(
            f"- {metric.upper()} lower than the classical codec at equal bpp in {wins} of {total} "
            "comparisons where the classical codec's measured range covers the rate (target: all)"
        )
    need, bound = bpp_for(frame, "jpeg2000", "miou", mid["miou"])
    ratio = need / mid["bpp"]
    verdict = "missed" if bound or not ratio >= 3 else "met"
    lines.append(
        f"- JPEG 2000 reaches the mid rate point's mIoU {mid['miou']:.3f} at "
        f"{'at most ' if bound else ''}{need:.4f} bpp, {'at most ' if bound else ''}{ratio:.2f} x "
        f"its {mid['bpp']:.4f} bpp (target >= 3 x: {verdict}; NaN: not reached in the measured range)"
    )
    return lines


def plot(frame: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    rated = frame[(frame["codec"] != "original") & (frame["fit"] == 1.0)]
    for metric in METRIC_COLUMNS:
        fig, ax = plt.subplots(figsize=(6, 4))
        for codec, rows in rated.groupby("codec", sort=False):
            rows = rows.sort_values("bpp")
            ax.plot(rows["bpp"], rows[metric], marker="o", ms=3, label=codec)
        ref = frame.loc[frame["codec"] == "original", metric]
        if len(ref) and metric in ("miou", "ms_ssim"):
            ax.axhline(float(ref.iloc[0]), color="k", ls=":", label="original")
        ax.set_xscale("log")
        ax.set_xlabel("bpp")
        ax.set_ylabel(metric)
        save_axes(fig, ax, out / f"{metric}.png")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, REPORT)
    parser.add_argument("--codecs", nargs="+", default=CLASSICAL)
    parser.add_argument("--learned", nargs="*", default=["hyperprior"])
    parser.add_argument("--bpp", nargs="+", type=float, default=[0.02, 0.035, 0.06, 0.12, 0.25])
    parser.add_argument("--gan-rates", nargs="+", choices=("low", "mid", "high"),
                        default=["low", "mid", "high"],
                        help="the semantic GAN's rate points measured (e.g. one newly trained)")  # fmt: skip
    parser.add_argument(
        "--map-scale",
        choices=("auto", "1", "0.5", "0.25"),
        default="auto",
        help="the semantic GAN's map_scale (auto: each rate point's own)",
    )
    parser.add_argument(
        "--skip-original",
        action="store_true",
        help="leave out the original row (rows to merge with a file that has it)",
    )
    parser.add_argument("--parts", nargs="+", choices=("learned", "classical"),
                        default=["learned", "classical"],
                        help="learned: semantic_gan, --learned and original; classical: --codecs "
                        "at --bpp (run the two as separate processes to use two cores)")  # fmt: skip
    add_rows_args(parser)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    frame = measured_or_merged(args, measure)
    frame["params"] = frame["params"].fillna("")
    codecs = [c for c in args.codecs if c in set(frame["codec"])]
    if not codecs or not {"semantic_gan", "original"} <= set(frame["codec"]):
        return 0  # one part alone (--rows-out): the report needs both
    plot(frame, args.report.with_suffix(""))
    setting = (
        f"{args.num_images} synthetic test scenes, 256x512, seed 0. Classical codecs rate-controlled "
        "to each target; `fit` = fraction of images that fit (those that do not are scored as the "
        "mean-colour fallback, and their bpp is not averaged). `seconds` = wall time of each point; "
        f"{frame['seconds'].sum():.0f} s in all."
    )
    body = ["## Targets", "", *targets(frame, codecs), "", "## All points", "",
            markdown_table(frame), "",
            f"Plots: `benchmarks/results/{args.report.stem}/<metric>.png`."]  # fmt: skip
    write_report(args.report, "Rate against perception and semantics (error-free)", start, setting,
                 body, argv)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
