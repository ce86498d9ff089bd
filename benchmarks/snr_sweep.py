"""The headline curves: semantic quality against SNR for every codec, with the capacity envelope.

    python benchmarks/snr_sweep.py [--num-images 4] [--height 256] [--width 512]
        [--experiments auto_awgn auto_rayleigh fixed_awgn fixed_rayleigh uep_awgn uep_rayleigh tdlc]
        [--codecs semantic_gan bpg jpeg2000 ...] [--ratios 1/96 1/48 1/24] [--side-ratios 1/48]
        [--enhancement-mode residual|image|auto_mse|auto_lpips]
        [--snr-start -5 --snr-stop 20 --snr-step 2.5] [--workers 2] [--out runs/snr_sweep]

Each experiment is one ``python -m simulator.run`` configuration (written to ``OUT/<name>.yaml``) run
with ``--resume``, so an interrupted sweep continues where it stopped. Experiments:

- ``auto_awgn`` / ``auto_rayleigh``: every codec, ``mcs: auto`` (layered codecs: ``base_mcs: auto``
  too), over AWGN and Rayleigh block fading (``block_length`` 64 symbols).
- ``fixed_awgn`` / ``fixed_rayleigh``: the same with one fixed MCS (16-QAM r=1/2; the layered base
  on QPSK r=1/3): the classical cliff.
- ``uep_awgn`` / ``uep_rayleigh``: as ``fixed_``, with the layered base on BPSK r=0.21 sent twice
  (unequal error protection: the semantic map survives down to -6 dB, the enhancement keeps 16-QAM).
- ``tdlc``: the headline codecs over OFDM on 3GPP TDL-C (300 ns, 30 km/h, LS channel estimation).

``--side-ratios`` restricts the fixed-MCS and TDL-C experiments to fewer bandwidth ratios (default: all).

The capacity envelope at each (SNR, rho) is the best a digital scheme could do: the envelope codec
(BPG by default) error-free at ``rho * 3 * C`` bits per pixel, C = log2(1 + SNR) on AWGN and the
ergodic E[log2(1 + SNR |h|^2)] on Rayleigh. It is drawn where the codec reaches that rate.
It depends on the scenes and SNRs only: ``--envelope-from OLD/envelope.csv`` reuses an earlier run's.

Writes ``OUT/summary.csv`` (all experiments), ``OUT/envelope.csv``, the report
``benchmarks/results/snr_sweep.md`` (numbers, targets, the command and the machine) and its plots in
``benchmarks/results/snr_sweep/``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from error_free import save_axes

from source_codecs.semantic_gan.enhancement import CHOICES

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "snr_sweep.md"

LAYERED = "semantic_gan"
CLASSICAL = ["bpg", "jpeg2000", "webp", "jpeg", "avif", "jpegxl", "vvc"]
LEARNED = ["hyperprior", "deepjscc"]
HEADLINE = [LAYERED, "bpg", "deepjscc"]
FIXED_MCS = {"modulation": "16qam", "code_rate": 0.5}
FIXED_BASE_MCS = {"modulation": "qpsk", "code_rate": 0.33}
UEP_BASE_MCS = {"modulation": "bpsk", "code_rate": 0.21, "repetitions": 2}
BLOCK_LENGTH = 64
TDLC = {
    "model": "ofdm",
    "params": {
        "multipath_model": "C",
        "delay_spread": 300e-9,
        "ue_speed": 30 / 3.6,
        "csi": "ls",
    },
    "label": "tdl-c_ls",
}
METRICS = ["psnr", "ms_ssim", "lpips", "miou", "fid", "kid"]
PLOTTED = ["miou", "lpips", "fid", "psnr"]


def codec_entry(name: str, enhancement_mode: str = "residual") -> dict:
    """The YAML entry of a codec in the sweep (the semantic GAN layered: low base + enhancement,
    which codes ``enhancement_mode``)."""
    if name == LAYERED:
        params = {"rate": "low", "enhancement": "auto", "enhancement_mode": enhancement_mode}
        return {"name": name, "params": params, "label": name}
    return {"name": name}


def scene_data(args: argparse.Namespace) -> dict:
    """The ``data`` section: synthetic test scenes of the requested number and size."""
    return {"source": "synthetic", "num_images": args.num_images, "height": args.height,
            "width": args.width}  # fmt: skip


def experiments(args: argparse.Namespace) -> dict[str, dict]:
    """Configuration of each requested experiment."""
    awgn = {"model": "awgn"}
    rayleigh = {"model": "rayleigh", "params": {"block_length": BLOCK_LENGTH}}
    codecs = [c for c in args.codecs if c != "original"]
    headline = [c for c in codecs if c in HEADLINE]
    table = {
        "auto_awgn": (codecs + ["original"], awgn, "auto"),
        "auto_rayleigh": (codecs + ["original"], rayleigh, "auto"),
        "fixed_awgn": ([c for c in codecs if c not in LEARNED], awgn, "fixed"),
        "fixed_rayleigh": ([c for c in codecs if c not in LEARNED], rayleigh, "fixed"),
        "uep_awgn": ([c for c in codecs if c not in LEARNED], awgn, "uep"),
        "uep_rayleigh": ([c for c in codecs if c not in LEARNED], rayleigh, "uep"),
        "tdlc": (headline, TDLC, "auto"),
    }
    out = {}
    for name in args.experiments:
        names, channel, mcs = table[name]
        ratios = args.ratios if name.startswith("auto") else (args.side_ratios or args.ratios)
        link = {
            "bandwidth_ratio": ratios,
            "snr_db": {"start": args.snr_start, "stop": args.snr_stop, "step": args.snr_step},
        }
        if mcs != "auto":
            base = FIXED_BASE_MCS if mcs == "fixed" else UEP_BASE_MCS
            link |= {"mcs": FIXED_MCS, "base_mcs": base}
        out[name] = {
            "seed": 0,
            "device": args.device,
            "data": scene_data(args),
            "codecs": [codec_entry(c, args.enhancement_mode) for c in names],
            "link": link,
            "channel": channel,
            "metrics": METRICS,
            "execution": {
                "executor": "processes" if args.workers > 1 else "local",
                "workers": args.workers,
            },  # fmt: skip
            "output": {"dir": str(args.out / name), "plots": False},
        }
    return out


def run_experiment(name: str, config: dict, out: Path) -> float:
    """Run (or resume) one experiment; returns its wall seconds."""
    path = out / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    start = time.perf_counter()
    command = [sys.executable, "-m", "simulator.run", str(path), "--resume", "--quiet"]
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start


def capacity_bits(snr_db: float, channel: str, draws: int = 200_000) -> float:
    """Capacity in bits per complex channel use: AWGN log2(1 + SNR); fading: the ergodic mean."""
    snr = 10 ** (snr_db / 10)
    if channel == "awgn":
        return math.log2(1 + snr)
    gain = np.random.default_rng(0).exponential(size=draws)
    return float(np.mean(np.log2(1 + snr * gain)))


def envelope(
    codec_name: str, snrs: list[float], ratios: list[float], channel: str, args: argparse.Namespace
) -> pd.DataFrame:
    """The envelope codec, error-free, at the capacity rate of every (SNR, rho): metrics per point."""
    from simulator.config import parse_config
    from simulator.data import make_source
    from simulator.link.pipeline import LinkSimulator
    from source_codecs import BudgetTooSmall, make_codec

    config = parse_config(
        {
            "device": args.device,
            "data": scene_data(args),
            "codecs": [{"name": codec_name}],
            "metrics": METRICS,
        }
    )
    scorer = LinkSimulator(config).scorer
    source = make_source("synthetic", root=None, num_images=args.num_images, height=args.height,
                         width=args.width, seed=0)  # fmt: skip
    samples = [source[i] for i in range(len(source))]
    codec = make_codec(codec_name)
    pixels = args.height * args.width
    rows = []
    for ratio in ratios:
        for snr in snrs:
            bpp = ratio * 3 * capacity_bits(snr, channel)
            try:
                streams = [codec.encode(s.image, int(bpp * pixels / 8)) for s in samples]
            except BudgetTooSmall:
                continue  # below the codec's smallest stream: no envelope point here
            images = [codec.decode(d, args.height, args.width) for d in streams]
            scores = scorer.score_point(images)
            rows.append({"channel": channel, "bandwidth_ratio": ratio, "snr_db": snr,
                         "capacity_bpp": bpp, **scores.summary})  # fmt: skip
    return pd.DataFrame(rows)


def reused_envelope(
    path: Path, snrs: list[float], ratios: list[float], channel: str
) -> pd.DataFrame:
    """The rows of an earlier run's ``envelope.csv`` for ``channel`` at ``snrs`` x ``ratios`` (the
    envelope depends on the scenes, the codec and the SNRs only, not on any MCS).

    :raises SystemExit: the file lacks a (ratio, channel) the sweep needs.
    """
    frame = pd.read_csv(path)
    frame = frame[(frame["channel"] == channel) & frame["snr_db"].isin(snrs)]
    match = np.isclose(
        frame["bandwidth_ratio"].to_numpy()[:, None], np.asarray(ratios)
    )  # [rows, ratios]
    missing = np.asarray(ratios)[~match.any(0)]
    if missing.size:
        raise SystemExit(f"{path} has no envelope for {channel} at rho {missing[0]}")
    return frame[match.any(1)]


def plot(summary: pd.DataFrame, envelopes: pd.DataFrame, out: Path) -> list[Path]:
    """One figure per (experiment, metric): a panel per rho, a line per codec, the envelope dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    files = []
    for (experiment, channel), frame in summary.groupby(["experiment", "channel"], sort=False):
        ratios = sorted(frame["bandwidth_ratio"].unique())
        family = "awgn" if channel == "awgn" else "rayleigh"
        for metric in PLOTTED:
            if frame[metric].isna().all():
                continue
            fig, axes = plt.subplots(1, len(ratios), figsize=(5 * len(ratios), 4), squeeze=False)
            for ax, ratio in zip(axes[0], ratios, strict=True):
                part = frame[np.isclose(frame["bandwidth_ratio"], ratio)]
                for codec, rows in part.groupby("codec", sort=False):
                    ax.plot(rows["snr_db"], rows[metric], marker="o", ms=3, label=codec)
                env = envelopes[(envelopes["channel"] == family)
                                & np.isclose(envelopes["bandwidth_ratio"], ratio)]  # fmt: skip
                if len(env) and not experiment.startswith("tdlc"):
                    ax.plot(env["snr_db"], env[metric], "k--", label="capacity envelope")
                ax.set_title(f"{experiment}, rho = {Fraction(ratio).limit_denominator(1000)}")
                ax.set_xlabel("SNR (dB)")
                ax.set_ylabel(metric)
                ax.grid(alpha=0.3)
            axes[0][-1].legend(fontsize=7)
            fig.tight_layout()
            path = out / f"{experiment}_{metric}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            files.append(path)
    if {"tdlc", "auto_awgn"} <= set(summary["experiment"]):
        files.append(plot_tdlc_against_awgn(summary, out / "tdlc_vs_awgn_miou.png"))
    return files


def plot_tdlc_against_awgn(summary: pd.DataFrame, path: Path) -> Path:
    """mIoU against SNR of the TDL-C experiment's codecs (solid) beside the same codecs over AWGN
    (dashed), both with ``mcs: auto``, at the TDL-C experiment's rho."""
    import matplotlib.pyplot as plt

    tdlc = summary[summary["experiment"] == "tdlc"]
    ratio = float(tdlc["bandwidth_ratio"].iloc[0])
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, codec in enumerate(dict.fromkeys(tdlc["codec"])):
        for experiment, style in (("tdlc", "-"), ("auto_awgn", "--")):
            rows = summary[(summary["experiment"] == experiment) & (summary["codec"] == codec)
                           & np.isclose(summary["bandwidth_ratio"], ratio)]  # fmt: skip
            label = f"{codec}, {'TDL-C LS' if experiment == 'tdlc' else 'AWGN'}"
            ax.plot(rows["snr_db"], rows["miou"], style, color=f"C{i}", marker="o", ms=3,
                    label=label)  # fmt: skip
    ax.set_title(f"TDL-C (300 ns, 30 km/h, LS CSI) against AWGN, rho = "
                 f"{Fraction(ratio).limit_denominator(1000)}")  # fmt: skip
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("miou")
    save_axes(fig, ax, path)
    return path


def graceful(frame: pd.DataFrame, codec: str) -> float:
    """The largest mIoU drop between neighbouring SNR points of ``codec`` over every rho."""
    drops = []
    for _, rows in frame[frame["codec"] == codec].groupby("bandwidth_ratio"):
        miou = rows.sort_values("snr_db")["miou"].to_numpy()
        drops.extend(np.maximum(miou[1:] - miou[:-1], 0))  # a drop as SNR *falls*
    return float(max(drops)) if drops else math.nan


def beats_classical(frame: pd.DataFrame) -> tuple[int, int, int]:
    """Points where semantic_gan's mIoU and LPIPS are at least as good as the best classical codec:
    (points with mIoU >=, points with LPIPS <=, points compared)."""
    classical = frame[frame["codec"].isin(CLASSICAL)]
    ours = frame[frame["codec"] == LAYERED].set_index(["bandwidth_ratio", "snr_db"])
    best = classical.groupby(["bandwidth_ratio", "snr_db"]).agg(miou=("miou", "max"),
                                                                 lpips=("lpips", "min"))  # fmt: skip
    joined = ours.join(best.add_suffix("_best"), how="inner")
    return (int((joined["miou"] >= joined["miou_best"]).sum()),
            int((joined["lpips"] <= joined["lpips_best"]).sum()), len(joined))  # fmt: skip


def table(frame: pd.DataFrame, metric: str, number: str = ".3g") -> str:
    """Markdown table: rows (codec, rho) in order of appearance, columns SNR ascending, cells the
    metric (numbers in the format ``number``, default 3 significant digits; strings as they are,
    missing: empty)."""
    rows = list(dict.fromkeys(zip(frame["codec"], frame["bandwidth_ratio"], strict=True)))
    pivot = frame.pivot(index=["codec", "bandwidth_ratio"], columns="snr_db", values=metric)
    pivot = pivot.reindex(index=pd.MultiIndex.from_tuples(rows), columns=sorted(pivot.columns))
    header = "| codec | rho | " + " | ".join(f"{s:g}" for s in pivot.columns) + " |"
    lines = [header, "|" + "---|" * (len(pivot.columns) + 2)]

    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:{number}}"
        return str(v)

    for (codec, ratio), values in pivot.iterrows():
        cells = " | ".join(cell(v) for v in values)
        lines.append(f"| {codec} | {Fraction(ratio).limit_denominator(1000)} | {cells} |")
    return "\n".join(lines)


def report(summary: pd.DataFrame, envelopes: pd.DataFrame, seconds: dict, command: str) -> str:
    """The markdown report."""
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    lines = [
        "# SNR sweep: semantic quality against SNR, every codec, with the capacity envelope",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {gpu}, torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d')}. Wall time per experiment (s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()),
        "",
        "Synthetic street scenes (test split, seed 0). `semantic_gan` = the layered codec (base rate "
        "`low`, enhancement `auto`, base layer on `base_mcs`). Fixed-MCS experiments: 16-QAM r=1/2 "
        "(the semantic GAN's base layer on QPSK r=1/3; in the `uep_` ones on BPSK r=0.21 sent "
        "twice, the classical codecs as in `fixed_`). Rayleigh = block fading, "
        f"{BLOCK_LENGTH} symbols per coefficient. Envelope = BPG error-free at rho * 3 * capacity bpp.",
        "",
    ]
    for experiment, frame in summary.groupby("experiment", sort=False):
        lines += [f"## {experiment}", ""]
        if experiment == "tdlc" and "auto_awgn" in set(summary["experiment"]):
            lines += [
                "TDL-C against AWGN (mIoU): `benchmarks/results/snr_sweep/tdlc_vs_awgn_miou.png`",
                "",
            ]
        if LAYERED in set(frame["codec"]):
            miou_ok, lpips_ok, n = beats_classical(frame)
            drop = graceful(frame, LAYERED)
            lines += [
                f"- largest mIoU drop of `{LAYERED}` between neighbouring SNR points: {drop:.3f} "
                f"(target <= 0.1: {'met' if drop <= 0.1 else 'missed'})",
                f"- `{LAYERED}` mIoU >= the best classical codec at {miou_ok} of {n} points, "
                f"LPIPS <= at {lpips_ok} of {n} (target: all)",
                "",
            ]
        for metric in ["miou", "lpips", "psnr", "fid", "bpp", "mcs", "decode_failure_rate"]:
            if metric in frame and not frame[metric].isna().all():
                lines += [f"### {metric}", "", table(frame, metric), ""]
    if len(envelopes):
        lines += ["## Capacity envelope (BPG error-free at the capacity rate)", ""]
        for channel, frame in envelopes.groupby("channel"):
            lines += [f"### {channel}: mIoU", "", table(frame.assign(codec="envelope"), "miou"), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--experiments", nargs="+",
                        default=["auto_awgn", "auto_rayleigh", "fixed_awgn", "fixed_rayleigh",
                                 "uep_awgn", "uep_rayleigh", "tdlc"])  # fmt: skip
    parser.add_argument("--codecs", nargs="+", default=[LAYERED, *CLASSICAL, *LEARNED])
    parser.add_argument("--ratios", nargs="+", default=["1/96", "1/48", "1/24"])
    parser.add_argument(
        "--enhancement-mode",
        default="residual",
        choices=CHOICES,
        help="what the semantic GAN's enhancement layer codes",
    )
    parser.add_argument("--side-ratios", nargs="+", help="ratios of the fixed and tdlc experiments")
    parser.add_argument("--snr-start", type=float, default=-5.0)
    parser.add_argument("--snr-stop", type=float, default=20.0)
    parser.add_argument("--snr-step", type=float, default=2.5)
    parser.add_argument("--envelope-codec", default="bpg")
    parser.add_argument("--envelope-from", type=Path,
                        help="envelope.csv of an earlier run of the same scenes: reused, not recomputed")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "snr_sweep")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    seconds, frames = {}, []
    for name, config in experiments(args).items():
        seconds[name] = run_experiment(name, config, args.out)
        frame = pd.read_csv(args.out / name / "summary.csv")
        frames.append(frame.assign(experiment=name))
    summary = pd.concat(frames, ignore_index=True)
    summary.to_csv(args.out / "summary.csv", index=False)
    snrs = sorted(summary["snr_db"].unique())
    ratios = sorted(summary["bandwidth_ratio"].unique())
    families = sorted({"awgn" if c == "awgn" else "rayleigh" for c in summary["channel"]})
    envelopes = pd.concat(
        [
            reused_envelope(args.envelope_from, snrs, ratios, f)
            if args.envelope_from
            else envelope(args.envelope_codec, snrs, ratios, f, args)
            for f in families
        ],
        ignore_index=True,
    )
    envelopes.to_csv(args.out / "envelope.csv", index=False)
    plot(summary, envelopes, args.report.with_suffix(""))
    command = "python benchmarks/snr_sweep.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    args.report.write_text(report(summary, envelopes, seconds, command.strip()) + "\n")
    print(f"wrote {args.report} and {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
