"""The same sweep gives the same numbers on every executor; a run killed with SIGKILL resumes exactly;
the ``processes`` executor does not run a script without a ``__main__`` guard again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

SWEEP = {
    "seed": 5,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 2, "height": 64, "width": 128},
    "codecs": [{"name": "jpeg2000"}, {"name": "jpeg"}],
    "link": {
        "bandwidth_ratio": ["1/12"],
        "snr_db": [-3, 1, 5],
        "mcs": {"modulation": "qpsk", "code_rate": 0.5},
        "fec": {"n": 1024, "iterations": 8},
    },
    "channel": [{"model": "awgn"}, {"model": "rayleigh"}],
    "metrics": ["psnr", "ms_ssim"],
    "output": {"plots": False},
}


def command(config: dict, out: Path, *extra: str) -> list[str]:
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "simulator.run", str(path), "--out", str(out), "--quiet", *extra]


def run(config: dict, out: Path, *extra: str) -> None:
    proc = subprocess.run(
        command(config, out, *extra), cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr


def csvs(out: Path) -> tuple[bytes, bytes]:
    return (out / "summary.csv").read_bytes(), (out / "per_image.csv").read_bytes()


def test_processes_and_dask_match_local(tmp_path):
    run(SWEEP, tmp_path / "local")
    run({**SWEEP, "execution": {"executor": "processes", "workers": 2}}, tmp_path / "processes")
    run({**SWEEP, "execution": {"executor": "dask", "workers": 2}}, tmp_path / "dask")
    assert csvs(tmp_path / "processes") == csvs(tmp_path / "local")
    assert csvs(tmp_path / "dask") == csvs(tmp_path / "local")
    assert len((tmp_path / "local" / "summary.csv").read_text().splitlines()) == 1 + 2 * 2 * 3


def test_kill_9_then_resume_gives_identical_csvs(tmp_path):
    run(SWEEP, tmp_path / "reference")
    out = tmp_path / "killed"
    kills = 0
    for delay in (6.0, 9.0):
        proc = subprocess.Popen(
            command(SWEEP, out, *(["--resume"] if kills else [])),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
    before = {p.name for p in (out / "points").glob("*.json")}
    run(SWEEP, out, "--resume")
    after = sorted(p.name for p in (out / "points").glob("*.json"))
    assert len(after) == len(set(after)) == 12  # no duplicates, nothing lost
    assert before <= set(after)
    assert not list((out / "points").glob(".*tmp*"))
    assert csvs(out) == csvs(tmp_path / "reference")


def test_processes_executor_does_not_rerun_an_unguarded_script(tmp_path):
    """Its workers are fresh interpreters: a plain script calling ``simulate`` runs once (with
    ``multiprocessing``'s spawn, each worker imported it again and started a sweep of its own)."""
    config = {
        "seed": 3,
        "device": "cpu",
        "data": {"source": "synthetic", "num_images": 1, "height": 32, "width": 64},
        "codecs": [{"name": "jpeg"}],
        "link": {
            "bandwidth_ratio": "1/6",
            "snr_db": [0, 12],
            "mcs": {"modulation": "qpsk", "code_rate": 0.5},
            "fec": {"n": 1024, "iterations": 8},
        },
        "channel": {"model": "awgn"},
        "metrics": ["psnr"],
        "output": {"plots": False},
        "execution": {"executor": "processes", "workers": 2},
    }
    script = tmp_path / "plain_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            print("script start", flush=True)
            import simulator

            result = simulator.simulate({config!r}, out="out", quiet=True)
            print("simulated", result.simulated, len(result.summary))
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("script start") == 1, proc.stdout
    assert "simulated 2 2" in proc.stdout, proc.stdout
    assert len((tmp_path / "out" / "summary.csv").read_text().splitlines()) == 1 + 2
