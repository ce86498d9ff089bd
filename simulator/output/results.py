"""Durable results: one fragment per finished sweep point, written atomically, and the CSVs built from them.

Layout of an output folder::

    config.yaml        the resolved configuration
    run.json           hash of the resolved configuration (decides whether --resume may continue)
    points/NNNNN-KEY.json   one finished point: its summary row and its per-image rows
    points/gallery/NNNNN-KEY-J.png   what the receiver showed for image J of a gallery point
    summary.csv        rebuilt from points/ at the end of every run
    per_image.csv
    plots/
    report.html        (simulator.output.report)

A fragment is written to a temporary file and renamed into place, so a run killed at any moment leaves
only whole fragments; ``--resume`` skips the points whose fragment exists. A point's thumbnails are
written before its fragment, so a finished point always has them.

The per-point 95 % confidence intervals (``<metric>_ci95``) of the per-image metrics are computed here,
from the per-image values of the fragment: the half-width of Student's t-interval,
``t(0.975, n-1) * s / sqrt(n)`` with ``s`` the sample standard deviation (ddof 1) of the ``n`` images
with a value; empty for fewer than two.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

__all__ = [
    "CI_METRICS",
    "OPTIONAL_METRICS",
    "PER_IMAGE_COLUMNS",
    "SUMMARY_COLUMNS",
    "THUMBNAIL_KEY",
    "ResultStore",
    "RunMismatchError",
    "atomic_write",
    "ci95",
    "config_hash",
    "per_image_columns",
    "ratio_label",
    "summary_columns",
]

CI_METRICS = ("psnr", "ms_ssim", "lpips", "lpips_alex")
"""Per-image-mean metrics whose summary row carries a 95 % confidence interval ``<metric>_ci95``."""
OPTIONAL_METRICS = ("lpips_alex",)
"""Metrics whose columns are left out of the CSVs when the configuration does not ask for them."""
THUMBNAIL_KEY = "thumbnail_png"
"""A per-image row may carry the PNG bytes of what the receiver showed under this key (gallery
points, :mod:`simulator.output.gallery`); :meth:`ResultStore.write_point` stores them as a file, never in
the fragment or the CSVs."""

SUMMARY_COLUMNS = [
    "codec", "channel", "snr_db", "bandwidth_ratio", "rho_label", "num_symbols", "mcs",
    "payload_bytes", "bpp", "ber", "bler", "decode_failure_rate", "fit_failure_rate",
    "psnr", "psnr_ci95", "ms_ssim", "ms_ssim_ci95", "lpips", "lpips_ci95",
    "lpips_alex", "lpips_alex_ci95", "miou", "miou_reference", "fid", "kid", "n_images",
]  # fmt: skip
PER_IMAGE_COLUMNS = [
    "codec", "channel", "snr_db", "bandwidth_ratio", "image_id", "bpp", "ber", "bler",
    "decoded", "status", "psnr", "ms_ssim", "lpips", "lpips_alex", "miou",
]  # fmt: skip


def _without_unasked(columns: list[str], metrics: list[str] | None) -> list[str]:
    if metrics is None:
        return list(columns)
    dropped = {m for m in OPTIONAL_METRICS if m not in metrics}
    return [c for c in columns if c not in dropped and c.removesuffix("_ci95") not in dropped]


def summary_columns(metrics: list[str] | None = None) -> list[str]:
    """The columns of ``summary.csv`` for a run asking for ``metrics`` (None: every column)."""
    return _without_unasked(SUMMARY_COLUMNS, metrics)


def per_image_columns(metrics: list[str] | None = None) -> list[str]:
    """The columns of ``per_image.csv`` for a run asking for ``metrics`` (None: every column)."""
    return _without_unasked(PER_IMAGE_COLUMNS, metrics)


def ratio_label(ratio: float) -> str:
    """A bandwidth ratio as a fraction: ``1/48`` rather than ``0.0208333``."""
    frac = Fraction(ratio).limit_denominator(10_000)
    return f"{frac.numerator}/{frac.denominator}" if frac.numerator else "0"


def ci95(values: list[float | None]) -> float:
    """Half-width of the 95 % Student t confidence interval of the mean of ``values``.

    ``t(0.975, n-1) * s / sqrt(n)``, ``s`` the sample standard deviation (ddof 1) over the ``n``
    finite values (None and NaN are left out: not computed). NaN for fewer than two values.
    """
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = finite.size
    if n < 2:
        return math.nan
    return float(stats.t.ppf(0.975, n - 1) * finite.std(ddof=1) / math.sqrt(n))


class RunMismatchError(RuntimeError):
    """``--resume`` into a folder that holds a run of a different configuration."""


def config_hash(config_yaml: str) -> str:
    """SHA-256 of a configuration's YAML text."""
    return hashlib.sha256(config_yaml.encode()).hexdigest()


def atomic_write(path: Path, text: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb" if isinstance(text, bytes) else "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN portably: a metric that was not computed is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    return value


class ResultStore:
    """The output folder of one run."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.points_dir = self.root / "points"

    def start(self, config_yaml: str, identity_yaml: str, resume: bool) -> int:
        """Prepare the folder; returns how many finished points a resumed run found.

        :param config_yaml: the resolved configuration, written to ``config.yaml``.
        :param identity_yaml: what decides whether two runs are the same (the configuration less
            its output folder); its hash is stored in ``run.json``.
        :param resume: keep finished points. Without it earlier points are removed (a fresh run);
            with it the stored hash must match, else :class:`RunMismatchError`.
        """
        digest = config_hash(identity_yaml)
        run_file = self.root / "run.json"
        if resume and run_file.exists():
            stored = json.loads(run_file.read_text()).get("config_hash")
            if stored != digest:
                raise RunMismatchError(
                    f"{self.root}: holds a run of a different configuration; refusing to resume "
                    "(use another --out folder, or run without --resume to start over)"
                )
        elif not resume and self.points_dir.exists():
            shutil.rmtree(self.points_dir)
        self.points_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.root / "config.yaml", config_yaml)
        atomic_write(run_file, json.dumps({"config_hash": digest}, indent=1) + "\n")
        return len(self.finished_keys())

    def _fragment(self, index: int, key: str) -> Path:
        return self.points_dir / f"{index:05d}-{key}.json"

    def thumbnail(self, index: int, key: str, position: int) -> Path:
        """Where the thumbnail of image ``position`` (0-based) of point ``index``/``key`` lives."""
        return self.points_dir / "gallery" / f"{index:05d}-{key}-{position}.png"

    def read_point(self, index: int, key: str) -> dict[str, Any] | None:
        """The fragment of a finished point (``{"summary": ..., "per_image": [...]}``; None for a
        metric not computed), or None if the point has not finished."""
        path = self._fragment(index, key)
        return json.loads(path.read_text()) if path.exists() else None

    def metrics(self) -> list[str] | None:
        """The metrics the run's ``config.yaml`` asks for; None without one (every column is kept)."""
        path = self.root / "config.yaml"
        if not path.exists():
            return None
        config = yaml.safe_load(path.read_text())
        metrics = config.get("metrics") if isinstance(config, dict) else None
        return list(metrics) if isinstance(metrics, list) else None

    def finished_keys(self) -> set[str]:
        """Keys of the points whose fragment is complete."""
        return {p.stem.split("-", 1)[1] for p in self.points_dir.glob("*.json")}

    def write_point(
        self, index: int, key: str, summary: dict[str, Any], per_image: list[dict[str, Any]]
    ) -> None:
        """Store one finished point atomically: first the thumbnails its per-image rows carry
        (:data:`THUMBNAIL_KEY`, PNG bytes), then the fragment (without them)."""
        rows = []
        for position, row in enumerate(per_image):
            row = dict(row)
            png = row.pop(THUMBNAIL_KEY, None)
            if png is not None:
                path = self.thumbnail(index, key, position)
                path.parent.mkdir(exist_ok=True)
                atomic_write(path, png)
            rows.append({k: _clean(v) for k, v in row.items()})
        record = {"summary": {k: _clean(v) for k, v in summary.items()}, "per_image": rows}
        atomic_write(self._fragment(index, key), json.dumps(record, sort_keys=True) + "\n")

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(summary, per_image) built from every fragment, in sweep order, with the summary's
        ``rho_label`` and ``<metric>_ci95`` columns derived from the fragment."""
        summaries, images = [], []
        for path in sorted(self.points_dir.glob("*.json")):
            record = json.loads(path.read_text())
            row = dict(record["summary"])
            row["rho_label"] = ratio_label(row["bandwidth_ratio"])
            for metric in CI_METRICS:
                if metric in row:
                    row[f"{metric}_ci95"] = ci95([r.get(metric) for r in record["per_image"]])
            summaries.append(row)
            images.extend(record["per_image"])
        metrics = self.metrics()
        summary = pd.DataFrame(summaries, columns=summary_columns(metrics))
        per_image = pd.DataFrame(images, columns=per_image_columns(metrics))
        return summary, per_image

    def write_csvs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rebuild ``summary.csv`` and ``per_image.csv`` (byte-identical for identical fragments)."""
        summary, per_image = self.tables()
        for frame, name in ((summary, "summary.csv"), (per_image, "per_image.csv")):
            atomic_write(self.root / name, frame.to_csv(index=False, float_format="%.6g"))
        return summary, per_image
