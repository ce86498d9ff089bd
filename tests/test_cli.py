"""The command line end to end: outputs, exit codes, reproducibility, resume, a custom channel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator.output.results import per_image_columns, summary_columns

ROOT = Path(__file__).resolve().parents[1]

SMALL = {
    "seed": 3,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 2, "height": 64, "width": 128},
    "codecs": [{"name": "jpeg2000"}, {"name": "original"}],
    "link": {
        "bandwidth_ratio": "1/12",
        "snr_db": [-4, 12],
        "mcs": {"modulation": "qpsk", "code_rate": 0.5},
        "fec": {"n": 1024, "iterations": 8},
    },
    "channel": {"model": "awgn"},
    "metrics": ["psnr", "ms_ssim", "miou"],
    "output": {"dir": "unused", "plots": True},
}


def cli(config: dict, out: Path, *extra: str) -> subprocess.CompletedProcess:
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "simulator.run", str(path), "--out", str(out), "--quiet", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "a"
    proc = cli(SMALL, out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_outputs_columns_and_values(small_run):
    summary = pd.read_csv(small_run / "summary.csv")
    per_image = pd.read_csv(small_run / "per_image.csv")
    assert list(summary.columns) == summary_columns(SMALL["metrics"])
    assert list(per_image.columns) == per_image_columns(SMALL["metrics"])
    assert "lpips_alex" not in summary and "psnr_ci95" in summary  # not asked for / asked for
    assert len(summary) == 2 * 2 and len(per_image) == 2 * 2 * 2
    assert (summary["n_images"] == 2).all()
    ref = summary[summary["codec"] == "original"]
    assert (ref["bpp"] == 24).all() and ref["bler"].isna().all()
    j2k = summary[summary["codec"] == "jpeg2000"].set_index("snr_db")
    # -4 dB: every frame is lost and the fallback is scored; 12 dB: error-free and better.
    assert j2k.loc[-4, "decode_failure_rate"] == 1.0 and j2k.loc[-4, "bler"] > 0.5
    assert j2k.loc[12, "decode_failure_rate"] == 0.0 and j2k.loc[12, "bler"] == 0.0
    assert j2k.loc[12, "psnr"] > j2k.loc[-4, "psnr"] + 3
    assert j2k.loc[12, "bpp"] <= 8 * j2k.loc[12, "payload_bytes"] / (64 * 128) + 1e-9
    assert summary["lpips"].isna().all()  # not asked for: an empty cell, never a made-up number
    assert (small_run / "config.yaml").exists()
    assert sorted(p.name for p in (small_run / "plots").glob("*.png"))


def test_same_seed_gives_byte_identical_csvs(small_run, tmp_path):
    proc = cli(SMALL, tmp_path / "b")
    assert proc.returncode == 0, proc.stderr
    for name in ("summary.csv", "per_image.csv"):
        assert (small_run / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_resume_recomputes_only_missing_points(small_run, tmp_path):
    out = tmp_path / "c"
    assert cli(SMALL, out).returncode == 0
    fragments = sorted((out / "points").glob("*.json"))
    fragments[1].unlink()
    stamp = {p: p.stat().st_mtime_ns for p in fragments if p.exists()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.run",
            str(tmp_path / "c.yaml"),
            "--out",
            str(out),
            "--resume",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 points simulated" in proc.stdout
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp
    assert (out / "summary.csv").read_bytes() == (small_run / "summary.csv").read_bytes()
    changed = {**SMALL, "seed": 4}
    refused = cli(changed, out, "--resume")
    assert refused.returncode == 2 and "different configuration" in refused.stderr


def test_config_errors_exit_2_with_one_line_per_problem(tmp_path):
    bad = {**SMALL, "channel": {"model": "rayleight"}, "link": {"snr_db": "loud"}}
    proc = cli(bad, tmp_path / "bad")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    # Schema and registry problems in one pass, the nearest name suggested; nothing written.
    assert any(line.startswith("link.snr_db") for line in lines), lines
    assert any(
        line.startswith("channel.model: unknown model 'rayleight'")
        and line.endswith("did you mean 'rayleigh'?")
        for line in lines
    ), lines
    assert not (tmp_path / "bad").exists()
    params = {
        **SMALL,
        "codecs": [{"name": "jpeg", "params": {"qualty": 3}}],
        "channel": {"model": "rayleigh", "params": {"block_lenght": 4}},
    }
    proc = cli(params, tmp_path / "bad2")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("codecs[0].params:") and "qualty" in lines[0], lines
    assert lines[0].endswith("did you mean 'quality'?"), lines
    assert lines[1].startswith("channel.params:") and "block_lenght" in lines[1], lines
    assert not (tmp_path / "bad2").exists()


def test_custom_channel_and_codec_from_the_readme_run_through_the_cli(tmp_path):
    custom = {
        **SMALL,
        "codecs": [{"name": "examples.block_mean_codec:BlockMean", "params": {"bits": 4}}],
        "link": {**SMALL["link"], "snr_db": [12]},
        "channel": {
            "model": "examples.phase_offset_channel:PhaseOffsetAWGN",
            "params": {"phase_deg": 30},
        },
        "metrics": ["psnr"],
    }
    proc = cli(custom, tmp_path / "custom")
    assert proc.returncode == 0, proc.stderr
    row = pd.read_csv(tmp_path / "custom" / "summary.csv").iloc[0]
    assert row["channel"] == "examples.phase_offset_channel:PhaseOffsetAWGN(phase_deg=30)"
    assert row["codec"] == "examples.block_mean_codec:BlockMean(bits=4)"
    assert row["bler"] == 0.0 and row["decode_failure_rate"] == 0.0
    assert row["psnr"] > 15 and 0 < row["bpp"] <= 8 * row["payload_bytes"] / (64 * 128)


PHOTOS = {
    **SMALL,
    "seed": 1,
    "data": {"source": "samples", "num_images": 2, "height": 64, "width": 128},
    "codecs": [{"name": "semantic_gan"}, {"name": "original"}],
    "link": {
        **SMALL["link"],
        "snr_db": [20],
        "base_mcs": {"modulation": "qpsk", "code_rate": 0.5},
    },
    "metrics": ["psnr", "miou"],
    "output": {"dir": "unused", "plots": False},
}
"""The user's own photos (no label maps): the semantic GAN with its default ``semantic_map: auto``."""


def test_semantic_gan_on_unlabelled_photos_segments_them_and_scores_against_the_segmenter(
    tmp_path,
):
    out = tmp_path / "photos"
    proc = cli(PHOTOS, out)
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(out / "summary.csv").set_index("codec")
    per_image = pd.read_csv(out / "per_image.csv")
    assert set(summary["miou_reference"]) == {"segmenter"}  # the source has no labels
    # The reference is the segmenter's prediction on the original itself: the original reads 1.
    assert summary.loc["original", "miou"] == 1.0
    assert (per_image[per_image["codec"] == "original"]["miou"] == 1.0).all()
    gan = per_image[per_image["codec"] == "semantic_gan"]
    assert (gan["status"] == "ok").all() and (gan["bpp"] > 0).all()  # sent, not refused
    assert 0 <= summary.loc["semantic_gan", "miou"] < 1  # scored, and not the reference


def test_semantic_map_labels_on_unlabelled_photos_exits_2_naming_the_key(tmp_path):
    config = {**PHOTOS, "codecs": [{"name": "semantic_gan", "params": {"semantic_map": "labels"}}]}
    out = tmp_path / "refused"
    proc = cli(config, out)
    assert proc.returncode == 2
    assert (
        "codecs[0].params.semantic_map: 'semantic_gan' needs semantic labels, and data.source "
        "'samples' has none; use semantic_map: segmenter or auto, or a labelled source "
        "(synthetic, cityscapes, folder with labels/)"
    ) in proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr and not out.exists()  # refused before anything is written


def test_own_torchscript_segmenter_from_the_config(tmp_path):
    import torch

    from simulator.config import parse_config
    from simulator.link.pipeline import LinkSimulator
    from simulator.link.sweep import sweep_points

    path = tmp_path / "seg.pt"
    torch.jit.save(torch.jit.script(torch.nn.Conv2d(3, 2, 1)), str(path))
    config = parse_config(
        {
            **SMALL,
            "codecs": [{"name": "original"}],
            "link": {"bandwidth_ratio": 0.5, "snr_db": [10]},
            "metrics": ["miou"],
            "segmenter": {"torchscript": str(path), "class_map": ["road", None]},
        }
    )
    simulator = LinkSimulator(config, log=lambda _msg: None)
    result = simulator.run_point(sweep_points(config)[0])
    # Every pixel is predicted 'road': the mIoU is road's IoU against ground truth over the classes present.
    labels = np.concatenate([s.labels.ravel() for s in simulator.samples])
    labels = labels[labels != 255]
    present = len(np.unique(labels))
    road_iou = np.mean(labels == 0)
    assert result.summary["miou"] == pytest.approx(road_iou / present, rel=1e-9)
