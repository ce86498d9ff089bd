"""Rate-perception-distortion: how the split between the semantic GAN's base and enhancement layers
trades perception against distortion at a fixed total rate.

    python benchmarks/rpd.py [--num-images 200] [--totals 0.1 0.2 0.4]

On held-out synthetic test scenes (256x512, seed 0), error-free: for every total rate (bpp, every byte
of both layers counted) and every base rate point (low, mid, high), ``semantic_gan`` with
``enhancement: auto`` fills the total with the residual layer; the base layers alone are the
zero-enhancement points. Writes ``benchmarks/results/rpd.md`` and ``benchmarks/results/rpd/`` (PSNR
against LPIPS and against FID, one line per total rate).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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
REPORT = ROOT / "benchmarks" / "results" / "rpd.md"
BASES = ("low", "mid", "high")


def _row_order(column: pd.Series) -> pd.Series:
    """Sort key: totals ascending (NaN, the base alone, first), bases low -> mid -> high."""
    return column.map(BASES.index) if column.name == "base" else column


def plot(frame: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    for metric in ("lpips", "fid"):
        fig, ax = plt.subplots(figsize=(6, 4))
        for total, rows in frame.groupby("total_bpp", sort=False, dropna=False):
            label = "base only" if pd.isna(total) else f"total {total:g} bpp"
            ax.plot(rows[metric], rows["psnr"], marker="o", label=label)
            for _, row in rows.iterrows():
                ax.annotate(row["base"], (row[metric], row["psnr"]), fontsize=7)
        ax.set_xlabel(f"{metric} (lower: better perception)")
        ax.set_ylabel("PSNR dB (higher: less distortion)")
        save_axes(fig, ax, out / f"psnr_vs_{metric}.png")


def measure(args: argparse.Namespace) -> pd.DataFrame:
    """One row per (total, base) of ``args.totals`` x ``args.bases``; ``seconds`` = its wall time."""
    samples, fallback = load_scenes(args.num_images)
    scorer = make_scorer(samples, args.device)
    pixels = samples[0].image.shape[0] * samples[0].image.shape[1]
    rows = []
    for total in [None, *args.totals]:
        for base in args.bases:
            tic = time.perf_counter()
            params = {"rate": base, "enhancement": "none" if total is None else "auto",
                      "enhancement_codec": args.enhancement_codec}  # fmt: skip
            budget = None if total is None else int(total * pixels / 8)
            result = evaluate(make_codec("semantic_gan", params), samples, fallback, scorer, budget)
            result.pop("bytes")
            rows.append({"total_bpp": total, "base": base, **result,
                         "seconds": round(time.perf_counter() - tic, 1)})  # fmt: skip
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, REPORT)
    parser.add_argument("--totals", nargs="+", type=float, default=[0.1, 0.2, 0.4])
    parser.add_argument("--bases", nargs="+", choices=BASES, default=list(BASES),
                        help="base rate points to measure (one per process to use more cores)")  # fmt: skip
    parser.add_argument("--enhancement-codec", default="bpg")
    add_rows_args(parser)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    frame = measured_or_merged(args, measure)
    if set(frame["base"]) != set(BASES):
        return 0  # a part alone (--rows-out): the report needs every base
    frame = frame.sort_values(["total_bpp", "base"], key=_row_order, na_position="first")
    base_bpp = frame[frame["total_bpp"].isna()].set_index("base")["bpp"]
    frame.insert(3, "base_bpp", frame["base"].map(base_bpp))
    plot(frame, args.report.with_suffix(""))
    setting = (
        f"{args.num_images} synthetic test scenes, 256x512, seed 0, error-free. Enhancement layer: the "
        f"residual coded by `{args.enhancement_codec}`. `bpp` counts both layers; `base_bpp` is the "
        "base layer alone; `fit` = fraction of images whose base layer fits the total."
    )
    plots = "Plots: `benchmarks/results/rpd/psnr_vs_lpips.png`, `benchmarks/results/rpd/psnr_vs_fid.png`."
    write_report(args.report, "Rate-perception-distortion of the semantic GAN's two layers", start,
                 setting, [markdown_table(frame), "", plots], argv)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
