"""BPG over 5G LDPC two ways: ``mcs: auto`` (one MCS chosen from the BLER tables) against
``mcs: envelope`` (every MCS tried at each point, the best kept: how papers draw "BPG + LDPC").

    python benchmarks/mcs_envelope.py [--num-images 8] [--codec bpg] [--metric psnr]
        [--ratios 1/48 1/24] [--snr-start 0 --snr-stop 20 --snr-step 2.5] [--out runs/mcs_envelope]

Two ``simulator.simulate`` runs on the same scenes, noise and channel (AWGN; the same seed), which
differ only in ``link.mcs`` (``envelope`` ranks by ``--metric``, ``link.envelope_metric``). Both use
the README's link defaults (n = 1024, 20 iterations, ``fec.decoder: auto``). Each run resumes
(``--resume``) when it is interrupted.

Writes ``benchmarks/results/mcs_envelope.md`` (per point: each run's MCS and metrics, and the gain of
the envelope) and ``benchmarks/results/mcs_envelope.png`` (the metric against SNR per bandwidth ratio,
the envelope's winning MCS written at each of its points).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from throughput import machine  # noqa: E402

import simulator  # noqa: E402
from simulator.output.plots import PLOT_METRICS  # noqa: E402
from simulator.output.results import ratio_label  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
METRICS = ("psnr", "ms_ssim", "lpips")


def config(args: argparse.Namespace, mcs: str) -> dict:
    """The experiment of one of the two runs."""
    link = {
        "bandwidth_ratio": args.ratios,
        "snr_db": {"start": args.snr_start, "stop": args.snr_stop, "step": args.snr_step},
        "mcs": mcs,
    }
    if mcs == "envelope":
        link["envelope_metric"] = args.metric
    return {
        "seed": 0,
        "device": "cpu",
        "data": {"source": "synthetic", "num_images": args.num_images, "height": 256, "width": 512},
        "codecs": [{"name": args.codec}],
        "link": link,
        "channel": {"model": "awgn"},
        "metrics": list(dict.fromkeys([args.metric, *METRICS])),
        "output": {"plots": False, "gallery_images": 0},
    }


def run(args: argparse.Namespace, mcs: str) -> tuple[pd.DataFrame, float]:
    """One run's summary and its wall time in seconds (resumed where an earlier run stopped)."""
    out = Path(args.out) / mcs
    start = time.perf_counter()
    result = simulator.simulate(config(args, mcs), out=out, resume=out.exists(), quiet=True)
    return result.summary, time.perf_counter() - start


def compare(auto: pd.DataFrame, envelope: pd.DataFrame) -> pd.DataFrame:
    """One row per (ratio, SNR): both runs' MCS and metrics side by side."""
    keys = ["bandwidth_ratio", "snr_db"]
    columns = keys + ["mcs", "bpp", "bler", *[m for m in METRICS if m in auto]]
    both = auto[columns].merge(envelope[columns], on=keys, suffixes=("_auto", "_envelope"))
    return both.sort_values(keys).reset_index(drop=True)


def figure(both: pd.DataFrame, metric: str, codec: str, path: Path) -> None:
    """The metric against SNR, a panel per bandwidth ratio, the envelope's MCS at its points."""
    ratios = sorted(both["bandwidth_ratio"].unique())
    fig, axes = plt.subplots(
        1, len(ratios), figsize=(5.2 * len(ratios), 4.2), sharey=True, squeeze=False
    )
    for ax, ratio in zip(axes[0], ratios, strict=True):
        rows = both[both["bandwidth_ratio"] == ratio]
        snr = rows["snr_db"].to_numpy()
        ax.plot(snr, rows[f"{metric}_auto"], "o-", color="tab:blue", mfc="none", label="mcs: auto")
        ax.plot(
            snr,
            rows[f"{metric}_envelope"],
            "s--",
            color="tab:red",
            mfc="none",
            label=f"mcs: envelope (best by {metric})",
        )
        for x, y, mcs in zip(snr, rows[f"{metric}_envelope"], rows["mcs_envelope"], strict=True):
            if np.isfinite(y):
                ax.annotate(
                    str(mcs).replace(" r=", "\n"),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 7),
                    ha="center",
                    fontsize=6.5,
                    color="tab:red",
                )
        ax.set_title(f"{codec} + 5G LDPC, AWGN, ρ = {ratio_label(ratio)}", fontsize=10)
        ax.set_xlabel("SNR (Es/N0) [dB]")
        ax.grid(alpha=0.3)
        ax.margins(y=0.12)  # room for the MCS labels above the highest points
    axes[0, 0].set_ylabel(PLOT_METRICS[metric])
    axes[0, 0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _cell(value: float, digits: int = 2) -> str:
    return "-" if not np.isfinite(value) else f"{value:.{digits}f}"


def report(both: pd.DataFrame, args: argparse.Namespace, seconds: dict[str, float]) -> str:
    """The markdown page."""
    m = args.metric
    lines = [
        f"# {args.codec} over 5G LDPC: `mcs: auto` against `mcs: envelope`",
        "",
        f"Command: `python benchmarks/mcs_envelope.py --num-images {args.num_images} --codec "
        f"{args.codec} --metric {m} --ratios {' '.join(args.ratios)} --snr-start {args.snr_start} "
        f"--snr-stop {args.snr_stop} --snr-step {args.snr_step}`",
        f"Machine: {machine()}. Wall time: auto {seconds['auto']:.0f} s, envelope "
        f"{seconds['envelope']:.0f} s (a resumed run counts only what it computed).",
        "",
        f"{args.num_images} synthetic test scenes at 256x512 per point, AWGN, n = 1024, 20 iterations. "
        f"The envelope tries every MCS of `auto`'s set at each point on the same noise and keeps the "
        f"best by {m} (an oracle bound: the choice sees the reference images). Gain: envelope minus "
        "auto.",
        "",
        f"| rho | SNR [dB] | auto MCS | auto bpp | auto {m} | envelope MCS | envelope bpp | "
        f"envelope {m} | gain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in both.iterrows():
        gain = r[f"{m}_envelope"] - r[f"{m}_auto"]
        lines.append(
            f"| {ratio_label(r['bandwidth_ratio'])} | {r['snr_db']:g} | {r['mcs_auto']} | "
            f"{_cell(r['bpp_auto'], 3)} | {_cell(r[f'{m}_auto'])} | {r['mcs_envelope']} | "
            f"{_cell(r['bpp_envelope'], 3)} | {_cell(r[f'{m}_envelope'])} | {_cell(gain)} |"
        )
    same = int((both["mcs_auto"] == both["mcs_envelope"]).sum())
    gains = (both[f"{m}_envelope"] - both[f"{m}_auto"]).to_numpy(float)
    lines += [
        "",
        f"The envelope picked `auto`'s MCS at {same} of {len(both)} points; its gain in {m}: mean "
        f"{np.nanmean(gains):.2f}, largest {np.nanmax(gains):.2f}, smallest {np.nanmin(gains):.2f} "
        f"(never below 0 when `auto`'s MCS is among those tried, which it always is).",
        "",
        "![envelope against auto](mcs_envelope.png)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=8)
    parser.add_argument("--codec", default="bpg")
    parser.add_argument("--metric", default="psnr", choices=METRICS)
    parser.add_argument("--ratios", nargs="+", default=["1/48", "1/24"])
    parser.add_argument("--snr-start", type=float, default=0.0)
    parser.add_argument("--snr-stop", type=float, default=20.0)
    parser.add_argument("--snr-step", type=float, default=2.5)
    parser.add_argument("--out", default=str(ROOT / "runs" / "mcs_envelope"))
    parser.add_argument("--report", type=Path, default=RESULTS / "mcs_envelope.md")
    args = parser.parse_args()
    summaries, seconds = {}, {}
    for mcs in ("auto", "envelope"):
        summaries[mcs], seconds[mcs] = run(args, mcs)
        print(f"{mcs}: {seconds[mcs]:.0f} s", flush=True)
    both = compare(summaries["auto"], summaries["envelope"])
    figure(both, args.metric, args.codec, args.report.with_suffix(".png"))
    args.report.write_text(report(both, args, seconds))
    print(f"wrote {args.report} and {args.report.with_suffix('.png')}")


if __name__ == "__main__":
    main()
