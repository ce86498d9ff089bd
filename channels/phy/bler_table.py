"""BLER tables: block error rate of each MCS against SNR, measured on the real link, stored as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BLERTable"]

_LOG_FLOOR = 1e-6  # BLER used for log-domain interpolation when no error was seen


@dataclass
class BLERTable:
    """Block error rates of MCS (by :attr:`MCS.name <channels.phy.mcs.MCS.name>`) on an SNR grid.

    ``errors[name][i]`` block errors in ``codewords[name][i]`` codewords at ``snr_db[i]``. A point with
    0 codewords was not simulated: below the first simulated point it is known to fail (BLER 1), above
    the last one a lower SNR already gave no error (BLER 0).

    :param fec: :attr:`FECConfig.key <channels.phy.fec.FECConfig.key>` of the code measured.
    :param family: channel family (``awgn``, ``rayleigh``, ``rayleigh_bl<L>``).
    :param snr_db: ascending SNR grid (Es/N0, dB).
    """

    fec: str
    family: str
    snr_db: list[float]
    errors: dict[str, list[int]] = field(default_factory=dict)
    codewords: dict[str, list[int]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def measured(self, name: str) -> np.ndarray:
        """Raw BLER of MCS ``name`` on the grid, [len(snr_db)] float64: 1 below its first simulated
        point, 0 above a clean last point, and the last point's value above one with errors."""
        errors = np.asarray(self.errors[name], dtype=np.float64)
        counts = np.asarray(self.codewords[name], dtype=np.float64)
        bler = np.divide(errors, counts, out=np.zeros_like(errors), where=counts > 0)
        simulated = np.flatnonzero(counts > 0)
        if simulated.size:
            bler[: simulated[0]] = 1.0
            last = simulated[-1]
            if errors[last] > 0:  # no clean point (a grid extended, an interrupted walk): hold it
                bler[last + 1 :] = bler[last]
        return bler

    def bler(self, name: str, snr_db: float) -> float:
        """BLER of MCS ``name`` at ``snr_db``, conservatively.

        A simulated point without a block error in N codewords reads 3/N, the one-sided 95 % upper
        confidence bound ("rule of three"), not 0: on a steep waterfall a 0 would make the interpolation
        from the SNR below wildly optimistic. The curve is then made non-increasing in SNR by taking, at
        each grid point, the largest BLER seen at that or any higher SNR, and interpolated linearly in
        log10(BLER) between grid points. Below the grid the BLER is 1; above it, the last grid value.
        """
        curve = self.measured(name)
        counts = np.asarray(self.codewords[name], dtype=np.float64)
        clean = (counts > 0) & (np.asarray(self.errors[name]) == 0)
        curve[clean] = np.minimum(1.0, 3.0 / counts[clean])
        curve = np.maximum.accumulate(curve[::-1])[::-1]
        grid = np.asarray(self.snr_db, dtype=np.float64)
        if snr_db < grid[0]:
            return 1.0
        if snr_db >= grid[-1]:
            return float(curve[-1])
        logs = np.log10(np.maximum(curve, _LOG_FLOOR))
        value = 10.0 ** float(np.interp(snr_db, grid, logs))
        return 0.0 if value <= _LOG_FLOOR * (1 + 1e-9) else value

    @property
    def names(self) -> list[str]:
        """MCS names in the table, in insertion order."""
        return list(self.errors)

    def save(self, path: str | Path) -> None:
        """Write the table as JSON (creating parent folders)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "fec": self.fec,
            "family": self.family,
            "snr_db": self.snr_db,
            "meta": self.meta,
            "mcs": {
                n: {"errors": self.errors[n], "codewords": self.codewords[n]} for n in self.names
            },
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> BLERTable:
        """Read a table written by :meth:`save`."""
        doc = json.loads(Path(path).read_text())
        mcs = doc["mcs"]
        return cls(
            fec=doc["fec"],
            family=doc["family"],
            snr_db=[float(s) for s in doc["snr_db"]],
            errors={n: v["errors"] for n, v in mcs.items()},
            codewords={n: v["codewords"] for n, v in mcs.items()},
            meta=doc.get("meta", {}),
        )
