"""The link simulator: configuration, sweep, link pipeline, metrics, results and plots.

From a notebook or a script, :func:`simulate` runs an experiment (a YAML path, a mapping or a
:class:`~simulator.config.Config`) and returns a :class:`~simulator.experiment.SimulationResult`
(``.summary`` and ``.per_image`` as pandas DataFrames, ``.out_dir``)::

    import simulator

    result = simulator.simulate("link.yaml", out="results/mine")
    print(result.summary[["codec", "snr_db", "psnr"]])

They are imported on first use, so that ``import simulator`` (and ``--help``) stays fast.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

__all__ = ["SimulationResult", "__version__", "simulate"]

try:
    __version__: str = metadata.version("semcom-sim")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    if name in ("SimulationResult", "simulate"):
        from simulator import experiment

        return getattr(experiment, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
