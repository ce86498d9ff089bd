"""Durable results: atomic fragments, resume rules, deterministic CSVs; the sweep's order and budget."""

from __future__ import annotations

import math

import pytest

from simulator.config import parse_config
from simulator.link.sweep import derive_seed, num_channel_symbols, sweep_points
from simulator.output.results import ResultStore, RunMismatchError


def row(codec: str, snr: float, psnr: float) -> dict:
    return {"codec": codec, "channel": "awgn", "snr_db": snr, "bandwidth_ratio": 0.5, "psnr": psnr}


def test_fragments_rebuild_identical_csvs_and_nan_is_empty(tmp_path):
    store = ResultStore(tmp_path)
    assert store.start("a: 1\n", "a: 1\n", resume=False) == 0
    store.write_point(1, "k1", row("jpeg", 5, math.nan), [row("jpeg", 5, 20.123456789)])
    store.write_point(0, "k0", row("jpeg", 0, 1 / 3), [])
    summary, per_image = store.write_csvs()
    assert list(summary["snr_db"]) == [0, 5]  # sweep order, not write order
    first = (tmp_path / "summary.csv").read_text()
    empty = "," * (len(summary.columns) - 5)  # every column after rho_label is empty
    assert ",0.333333," in first and "jpeg,awgn,5,0.5,1/2" + empty + "\n" in first
    assert "20.1235" in (tmp_path / "per_image.csv").read_text()
    store.write_csvs()
    assert (tmp_path / "summary.csv").read_text() == first
    assert not list(tmp_path.glob("points/.*tmp*"))  # no temporary files left behind


def test_resume_keeps_points_and_refuses_another_config(tmp_path):
    store = ResultStore(tmp_path)
    store.start("x", "id-1", resume=False)
    store.write_point(0, "k0", row("jpeg", 0, 1.0), [])
    assert ResultStore(tmp_path).start("x", "id-1", resume=True) == 1
    with pytest.raises(RunMismatchError):
        ResultStore(tmp_path).start("x", "id-2", resume=True)
    assert ResultStore(tmp_path).start("x", "id-2", resume=False) == 0  # a fresh run starts over
    assert ResultStore(tmp_path).finished_keys() == set()


def test_sweep_order_keys_and_seeds():
    config = parse_config(
        {
            "codecs": [{"name": "jpeg"}, {"name": "original"}],
            "link": {"bandwidth_ratio": [1 / 48, 1 / 24], "snr_db": [0, 5, 10]},
        }
    )
    points = sweep_points(config)
    assert len(points) == 2 * 2 * 3
    assert [p.index for p in points] == list(range(12))
    assert len({p.key for p in points}) == 12
    assert points[0].codec.name == "jpeg" and points[-1].codec.name == "original"
    # common random numbers: the same channel seed for every codec; a different one per SNR
    assert derive_seed(0, "awgn", 0.5, 3.0) == derive_seed(0, "awgn", 0.5, 3.0)
    assert derive_seed(0, "awgn", 0.5, 3.0) != derive_seed(0, "awgn", 0.5, 4.0)
    assert derive_seed(0, "awgn", 0.5, 3.0) != derive_seed(1, "awgn", 0.5, 3.0)


def test_channel_budget_k():
    assert num_channel_symbols(1 / 48, 256, 512) == 8192
    assert num_channel_symbols(1 / 24, 256, 512) == 16384
    assert num_channel_symbols(1 / 7, 10, 10) == 42  # floor(300/7)
