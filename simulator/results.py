"""Durable results: one fragment per finished sweep point, written atomically, and the CSVs built from them.

Layout of an output folder::

    config.yaml        the resolved configuration
    run.json           hash of the resolved configuration (decides whether --resume may continue)
    points/NNNNN-KEY.json   one finished point: its summary row and its per-image rows
    summary.csv        rebuilt from points/ at the end of every run
    per_image.csv
    plots/

A fragment is written to a temporary file and renamed into place, so a run killed at any moment leaves
only whole fragments; ``--resume`` skips the points whose fragment exists.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "PER_IMAGE_COLUMNS",
    "SUMMARY_COLUMNS",
    "ResultStore",
    "RunMismatchError",
    "config_hash",
]

SUMMARY_COLUMNS = [
    "codec", "channel", "snr_db", "bandwidth_ratio", "num_symbols", "mcs", "payload_bytes",
    "bpp", "ber", "bler", "decode_failure_rate", "fit_failure_rate",
    "psnr", "ms_ssim", "lpips", "lpips_alex", "miou", "fid", "kid", "n_images",
]  # fmt: skip
PER_IMAGE_COLUMNS = [
    "codec", "channel", "snr_db", "bandwidth_ratio", "image_id", "bpp", "ber", "bler",
    "decoded", "status", "psnr", "ms_ssim", "lpips", "lpips_alex", "miou",
]  # fmt: skip


class RunMismatchError(RuntimeError):
    """``--resume`` into a folder that holds a run of a different configuration."""


def config_hash(config_yaml: str) -> str:
    """SHA-256 of a configuration's YAML text."""
    return hashlib.sha256(config_yaml.encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w") as fh:
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
        _atomic_write(self.root / "config.yaml", config_yaml)
        _atomic_write(run_file, json.dumps({"config_hash": digest}, indent=1) + "\n")
        return len(self.finished_keys())

    def _fragment(self, index: int, key: str) -> Path:
        return self.points_dir / f"{index:05d}-{key}.json"

    def finished_keys(self) -> set[str]:
        """Keys of the points whose fragment is complete."""
        return {p.stem.split("-", 1)[1] for p in self.points_dir.glob("*.json")}

    def write_point(
        self, index: int, key: str, summary: dict[str, Any], per_image: list[dict[str, Any]]
    ) -> None:
        """Store one finished point atomically."""
        record = {
            "summary": {k: _clean(v) for k, v in summary.items()},
            "per_image": [{k: _clean(v) for k, v in row.items()} for row in per_image],
        }
        _atomic_write(self._fragment(index, key), json.dumps(record, sort_keys=True) + "\n")

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(summary, per_image) built from every fragment, in sweep order."""
        summaries, images = [], []
        for path in sorted(self.points_dir.glob("*.json")):
            record = json.loads(path.read_text())
            summaries.append(record["summary"])
            images.extend(record["per_image"])
        summary = pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)
        per_image = pd.DataFrame(images, columns=PER_IMAGE_COLUMNS)
        return summary, per_image

    def write_csvs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rebuild ``summary.csv`` and ``per_image.csv`` (byte-identical for identical fragments)."""
        summary, per_image = self.tables()
        for frame, name in ((summary, "summary.csv"), (per_image, "per_image.csv")):
            _atomic_write(self.root / name, frame.to_csv(index=False, float_format="%.6g"))
        return summary, per_image
