"""Kill -9 at random moments, resume, compare: the durability evidence for the sweep runner.

    python benchmarks/kill_resume.py [--kills 20] [--seed 0]

Runs one small sweep uninterrupted (the reference), then runs it again in a second folder, sending
SIGKILL to the whole process group at a uniformly random moment of each attempt (between 0 and the
reference's wall time, so start-up, point computation and result writing are all hit), and resumes
with ``--resume`` until the sweep completes. Counts the points lost (expected rows missing from the
final ``summary.csv``), duplicated rows, leftover temporary files, and whether ``summary.csv`` and
``per_image.csv`` are byte-identical to the reference. Writes ``benchmarks/results/kill_resume.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "kill_resume.md"
KEY = ["codec", "channel", "snr_db", "bandwidth_ratio"]
SWEEP = {
    "seed": 3,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 2, "height": 256, "width": 512},
    "codecs": [{"name": "jpeg2000"}, {"name": "jpeg"}, {"name": "original"}],
    "link": {
        "bandwidth_ratio": ["1/24", "1/12", "1/6"],
        "snr_db": {"start": -4, "stop": 18, "step": 2},
        "mcs": {"modulation": "qpsk", "code_rate": 0.5},
        "fec": {"n": 1024, "iterations": 20},
    },
    "channel": [{"model": "awgn"}, {"model": "rayleigh"}],
    "metrics": ["psnr", "ms_ssim"],
    "output": {"plots": False},
}


def start(config: Path, out: Path, resume: bool) -> subprocess.Popen:
    """``python -m simulator.run config --out out [--resume]`` in its own process group."""
    command = [sys.executable, "-m", "simulator.run", str(config), "--out", str(out), "--quiet"]
    return subprocess.Popen(
        command + (["--resume"] if resume else []),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def finished_points(out: Path) -> int:
    """Point fragments written so far."""
    return len(list((out / "points").glob("*.json")))


def reference_run(config: Path, out: Path) -> tuple[float, float]:
    """Run the sweep uninterrupted; its start-up seconds (until the first point is on disk) and its
    wall seconds."""
    began = time.perf_counter()
    proc, startup = start(config, out, resume=False), None
    while proc.poll() is None:
        if startup is None and (out / "points").exists() and finished_points(out):
            startup = time.perf_counter() - began
        time.sleep(0.05)
    if proc.returncode != 0 or startup is None:
        raise SystemExit("the reference run failed")
    return startup, time.perf_counter() - began


def killed_run(
    config: Path, out: Path, kills: int, times: tuple[float, float], total: int, rng: random.Random
) -> list:
    """Attempts until the sweep completes, the first ``kills`` of them SIGKILLed at a random moment
    in [startup / 2, startup + half the reference's compute time x the fraction of the ``total``
    points still to do] s (``times`` = (startup, wall) seconds of the reference): kills land in start-up,
    in computation and in result writing; one row (attempt, delay s, killed, points done after it)
    per attempt."""
    startup, wall = times
    log, attempt = [], 0
    while True:
        left = 1 - finished_points(out) / total if (out / "points").exists() else 1.0
        horizon = startup + left * (wall - startup) / 2
        delay = rng.uniform(startup / 2, horizon) if attempt < kills else None
        proc = start(config, out, resume=attempt > 0)
        killed = False
        if delay is not None:
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = True
        code = proc.wait()
        log.append((attempt + 1, delay, killed, finished_points(out)))
        attempt += 1
        if not killed and code == 0:
            return log
        if not killed:
            raise SystemExit(f"attempt {attempt} failed with exit code {code}")


def compare(reference: Path, out: Path) -> dict:
    """Lost and duplicated rows, leftover temporaries, byte identity of both CSVs."""
    ref, got = pd.read_csv(reference / "summary.csv"), pd.read_csv(out / "summary.csv")
    expected = set(map(tuple, ref[KEY].astype(str).to_numpy()))
    rows = list(map(tuple, got[KEY].astype(str).to_numpy()))
    return {
        "points": len(expected),
        "lost": len(expected - set(rows)),
        "duplicates": len(rows) - len(set(rows)),
        "temporaries": len([p for p in (out / "points").iterdir() if p.name.startswith(".")]),
        "identical": all(
            (reference / name).read_bytes() == (out / name).read_bytes()
            for name in ("summary.csv", "per_image.csv")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sweep.yaml"
        config.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
        times = reference_run(config, Path(tmp) / "reference")
        total = finished_points(Path(tmp) / "reference")
        log = killed_run(config, Path(tmp) / "killed", args.kills, times, total, rng)
        result = compare(Path(tmp) / "reference", Path(tmp) / "killed")
    kills = sum(killed for _, _, killed, _ in log)
    command = " ".join(["python benchmarks/kill_resume.py", *(argv or sys.argv[1:])])
    lines = [
        "# Kill -9 and resume",
        "",
        f"Command: `{command}` (2-core CPU, no GPU, {time.strftime('%Y-%m-%d')}). Sweep: "
        f"{result['points']} points (`{json.dumps(SWEEP)}`); "
        f"uninterrupted: {times[0]:.1f} s start-up (until the first point is on disk), {times[1]:.1f} s "
        "wall. Each attempt is killed with SIGKILL (whole process group) at a uniformly random moment "
        "between half the start-up and the start-up plus half the reference's compute time scaled by "
        "the fraction of points still to do, then resumed with `--resume`.",
        "",
        "| kills landed | attempts | points lost | duplicate rows | temporaries left | "
        "summary.csv and per_image.csv byte-identical to the uninterrupted run |",
        "|---|---|---|---|---|---|",
        f"| {kills} | {len(log)} | {result['lost']} | {result['duplicates']} | "
        f"{result['temporaries']} | {'yes' if result['identical'] else 'no'} |",
        "",
        "| attempt | kill after [s] | killed | point fragments on disk after it |",
        "|---|---|---|---|",
        *[
            f"| {a} | {'' if d is None else f'{d:.1f}'} | {'yes' if k else 'no (finished)'} | {n} |"
            for a, d, k, n in log
        ],
    ]
    args.report.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.report}")
    return 0 if result["lost"] == result["duplicates"] == 0 and result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
