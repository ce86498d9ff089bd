"""Throughput of the simulator: the default run, and one sweep on each executor.

    python benchmarks/throughput.py [--skip-default] [--skip-executors] [--profile] [--per-codec]

Writes benchmarks/results/throughput.md (the command, the machine, the numbers). Each run is a fresh
``python -m simulator.run`` process, timed from start to exit (imports and model loads included).
``--profile`` also runs the default experiment once in this process under cProfile and says where its
time goes (cumulative seconds of the entry points of each stage; a stage's own caches included).
``--per-codec`` times the default experiment once per codec, with that codec alone. The file's
sections headed ``## Session`` are notes written by hand: a new run keeps them, below its tables.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(
    0, str(ROOT)
)  # --profile imports the simulator of this checkout, not an installed one
RESULT = ROOT / "benchmarks" / "results" / "throughput.md"

EXECUTOR_SWEEP = {
    "seed": 0,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 4, "height": 256, "width": 512},
    "codecs": [{"name": "jpeg2000"}, {"name": "webp"}, {"name": "original"}],
    "link": {"bandwidth_ratio": ["1/48"], "snr_db": [0, 4, 8, 12]},
    "channel": [{"model": "awgn"}, {"model": "rayleigh"}],
    "metrics": ["psnr", "ms_ssim", "lpips", "miou", "fid", "kid"],
    "output": {"plots": False},
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{os.cpu_count()} cores ({cpu}), {gpu}, Python {platform.python_version()}, "
        f"torch {torch.__version__}"
    )


def timed_run(config_path: Path, out: Path) -> float:
    """Wall time of one CLI run in seconds."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "simulator.run", str(config_path), "--out", str(out), "--quiet"],
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - start


def default_run(tmp: Path) -> list[str]:
    config = yaml.safe_load((ROOT / "link.yaml").read_text())
    seconds = timed_run(ROOT / "link.yaml", tmp / "default")
    summary = pd.read_csv(tmp / "default" / "summary.csv")
    images = int(summary["n_images"].sum())
    return [
        "## The default run (`python -m simulator.run link.yaml`)",
        "",
        "| points | images simulated | wall time [s] | images/s | target |",
        "|---|---|---|---|---|",
        f"| {len(summary)} | {images} | {seconds:.1f} | {images / seconds:.2f} | <= 180 s |",
        "",
        f"Codecs: {', '.join(c['name'] for c in config['codecs'])}; "
        f"{config['data']['num_images']} images of {config['data']['height']}x{config['data']['width']}.",
        "",
    ]


PROFILE_STAGES = (
    (
        "building the simulator (models, data, plug-in checks)",
        "simulator/link/pipeline.py",
        "__init__",
    ),
    (
        "source encoding, rate control included (EncodeCache.get_all)",
        "simulator/link/transport.py",
        "get_all",
    ),
    (
        "5G LDPC link: CRC, LDPC, QAM, channel (DigitalLink.transmit)",
        "channels/phy/link.py",
        "transmit",
    ),
    ("decoding intact streams (DecodeCache.decode)", "simulator/link/transport.py", "decode"),
    (
        "analog codecs over the channel (AnalogTransport.deliver)",
        "simulator/link/analog.py",
        "deliver",
    ),
    ("metric networks and scores (Scorer.score_point)", "simulator/link/scoring.py", "score_point"),
    ("figures (plot_summary)", "simulator/output/plots.py", "plot_summary"),
    ("report.html (write_report)", "simulator/output/report.py", "write_report"),
)
"""(stage, file, function or functions): the stages of a run, by the cumulative time of their entry
points (called from the main thread: work they hand to threads counts as the time they wait)."""


def profile_default(tmp: Path) -> list[str]:
    """Where the default run's time goes, from one in-process run under cProfile."""
    import cProfile
    import pstats

    from simulator import simulate

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(simulate, ROOT / "link.yaml", out=tmp / "profiled", quiet=True)
    total = time.perf_counter() - start
    stats = pstats.Stats(
        profiler
    ).stats  # (file, line, function) -> (cc, nc, tottime, cumtime, callers)
    rows = []
    for stage, file, function in PROFILE_STAGES:
        seconds = sum(
            v[3]
            for (f, _, name), v in stats.items()
            if f.endswith(file) and name in ((function,) if isinstance(function, str) else function)
        )
        rows.append(f"| {stage} | {seconds:.1f} | {100 * seconds / total:.0f} % |")
    return [
        "## Where the default run's time goes (`--profile`)",
        "",
        f"One in-process `simulator.simulate('link.yaml')` under cProfile: {total:.1f} s in all "
        "(profiling adds some overhead; imports excluded). Stages by the cumulative time of their "
        "entry point; the encoding stage includes the semantic GAN's enhancement encodes, which "
        "run its generator.",
        "",
        "| stage | seconds | share |",
        "|---|---|---|",
        *rows,
        "",
    ]


def per_codec(tmp: Path) -> list[str]:
    """The default experiment once per codec, each alone in a fresh process."""
    config = yaml.safe_load((ROOT / "link.yaml").read_text())
    rows = []
    for i, entry in enumerate(config["codecs"]):  # a codec may be listed twice, with other params
        out = tmp / f"alone_{i}"
        path = out.with_suffix(".yaml")
        path.write_text(yaml.safe_dump({**config, "codecs": [entry]}))
        seconds = timed_run(path, out)
        points = len(pd.read_csv(out / "summary.csv"))
        rows.append((entry["name"], entry.get("params", {}), points, seconds))
    total = sum(row[3] for row in rows)
    return [
        "## The default run, one codec at a time (`--per-codec`)",
        "",
        "`link.yaml` with one codec in `codecs:`, each a fresh process. Every run pays the start-up "
        "(imports, model loads) and the reference images' features again, so the sum exceeds the "
        "default run's time.",
        "",
        "| codec | params | points | wall time [s] | share of the sum |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {', '.join(f'{k}={v}' for k, v in params.items())} | {points} | "
            f"{seconds:.1f} | {100 * seconds / total:.0f} % |"
            for name, params, points, seconds in rows
        ),
        f"| sum | | | {total:.1f} | |",
        "",
    ]


def executors(tmp: Path) -> list[str]:
    rows, frames = [], {}
    for name, workers in (("local", 1), ("processes", 2), ("dask", 2)):
        config = {**EXECUTOR_SWEEP, "execution": {"executor": name, "workers": workers}}
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        seconds = timed_run(path, tmp / name)
        summary = pd.read_csv(tmp / name / "summary.csv")
        frames[name] = (tmp / name / "summary.csv").read_bytes()
        images = int(summary["n_images"].sum())
        rows.append(
            f"| {name} | {workers} | {len(summary)} | {seconds:.1f} | "
            f"{len(summary) / seconds:.3f} | {images / seconds:.2f} |"
        )
    same = all(frames[k] == frames["local"] for k in frames)
    return [
        "## One sweep on each executor",
        "",
        f"Sweep: {yaml.safe_dump(EXECUTOR_SWEEP, default_flow_style=True, width=1000).strip()}",
        "",
        "| executor | workers | points | wall time [s] | points/s | images/s |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"summary.csv byte-identical across executors: {'yes' if same else 'NO'}",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--skip-executors", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also profile the default run")
    parser.add_argument(
        "--per-codec", action="store_true", help="also time the default run one codec at a time"
    )
    args = parser.parse_args()
    lines = [
        "# Throughput",
        "",
        f"Command: `python benchmarks/throughput.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`",
        f"Machine: {machine()}",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_default:
            lines += default_run(Path(tmp))
        if args.profile:
            lines += profile_default(Path(tmp))
        if args.per_codec:
            lines += per_codec(Path(tmp))
        if not args.skip_executors:
            lines += executors(Path(tmp))
    print("\n".join(lines))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines) + "\n" + hand_written(RESULT, "## Session"))


def hand_written(path: Path, heading: str) -> str:
    """The part of the results file ``path`` from its first line that starts with ``heading`` on:
    notes written by hand, which a new run keeps ("" where there are none)."""
    text = path.read_text() if path.is_file() else ""
    start = text.find("\n" + heading)
    return "" if start < 0 else text[start + 1 :]


if __name__ == "__main__":
    main()
