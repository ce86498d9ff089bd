"""One experiment end to end, from a configuration to its output folder: :func:`simulate`.

The command line (``python -m simulator.run`` / ``semcom-sim``) is this function plus printing; from a
notebook or a script, ``simulator.simulate("link.yaml")`` does the same run and returns the tables.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.config import Config, dump_config, load_config, parse_config
from source_codecs.allocator import keep_freed_memory

__all__ = ["SimulationResult", "load", "simulate"]


@dataclass(frozen=True)
class SimulationResult:
    """What a run produced.

    :param summary: ``summary.csv``: one row per (codec, channel, bandwidth_ratio, snr_db) point.
    :param per_image: ``per_image.csv``: one row per image and point.
    :param out_dir: the output folder (``summary.csv``, ``per_image.csv``, ``config.yaml``, ``plots/``,
        ``report.html``).
    :param plots: the figure files written (empty with ``output.plots: false``).
    :param config: the resolved configuration that produced it.
    :param simulated: points run by this call.
    :param resumed: points found finished in ``out_dir`` (``resume=True``) and not run again.
    :param elapsed_s: wall time of the sweep, seconds (set-up and validation not included).
    """

    summary: pd.DataFrame
    per_image: pd.DataFrame
    out_dir: Path
    plots: list[Path]
    config: Config
    simulated: int
    resumed: int
    elapsed_s: float


def load(config: Config | Mapping[str, Any] | str | os.PathLike) -> Config:
    """A validated :class:`Config` from a :class:`Config`, a mapping (the YAML document as Python
    values) or the path of a YAML file; :class:`~simulator.config.ConfigError` lists every problem."""
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return parse_config(dict(config))
    if isinstance(config, str | os.PathLike):
        return load_config(config)
    raise TypeError(
        f"simulate() takes a Config, a mapping or a YAML path, not {type(config).__name__}"
    )


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def simulate(
    config: Config | Mapping[str, Any] | str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
) -> SimulationResult:
    """Run every point of an experiment and write its output folder.

    Everything is validated before anything is written: a configuration with problems raises
    :class:`~simulator.config.ConfigError` (``.problems``: one line per problem, naming its key path)
    and creates no folder.

    :param config: a :class:`Config`, a mapping with the YAML's keys, or the path of a YAML file.
    :param out: the output folder (default: the configuration's ``output.dir``).
    :param resume: keep the points already finished in ``out`` (same configuration only).
    :param quiet: no progress and no messages. Otherwise progress goes to stderr: a bar naming the
        point being worked on where stderr is a terminal, one line per finished point elsewhere.
    :param log: where messages go (e.g. a metric that cannot be computed); default stderr.
    :return: the tables, the output folder and the figures (:class:`SimulationResult`).
    :raises ConfigError: the configuration cannot run.
    :raises RunMismatchError: ``resume`` into a folder that holds a run of another configuration.

    The process (and the worker processes it starts) keeps freed memory in the heap for reuse
    (:func:`source_codecs.allocator.keep_freed_memory`, on glibc): the metric networks' large
    buffers are then not faulted in afresh at every call; the process holds its peak memory.
    A malloc configured by the user (``GLIBC_TUNABLES=glibc.malloc.perturb=0``: glibc's defaults)
    is left alone.

    Example::

        import simulator

        result = simulator.simulate("link.yaml", out="results/mine")
        result.summary.pivot_table(index="snr_db", columns="codec", values="psnr")
    """
    from simulator.link.executors import PointExecutor
    from simulator.link.pipeline import LinkSimulator
    from simulator.link.sweep import sweep_points
    from simulator.output.progress import Progress
    from simulator.output.results import ResultStore

    keep_freed_memory()
    config = load(config)
    if out is not None:
        config = config.model_copy(
            update={"output": config.output.model_copy(update={"dir": str(out)})}
        )
    say = (lambda _msg: None) if quiet else (log or _stderr)
    simulator = LinkSimulator(config, log=say)  # validates the rest; writes nothing
    out_dir = Path(config.output.dir)
    store = ResultStore(out_dir)
    # What decides whether resume may continue: everything but the output (where results go, how
    # they are drawn, how many thumbnails the gallery keeps) and how the run executes.
    identity = config.model_copy(update={"output": None, "execution": None})
    found = store.start(dump_config(config), dump_config(identity), resume=resume)
    points, done = sweep_points(config), store.finished_keys()
    todo = [p for p in points if p.key not in done]
    if resume:
        say(f"resuming in {out_dir}: {found} of {len(points)} points already finished")
    start = time.perf_counter()
    with Progress.for_stream(len(todo), sys.stderr, quiet) as progress:
        for point, row, image_rows in PointExecutor(config, simulator).run(todo, progress.started):
            store.write_point(point.index, point.key, row, image_rows)
            progress.finished(point, row)
    elapsed = time.perf_counter() - start
    summary, per_image = store.write_csvs()
    plots: list[Path] = []
    panels: list[Path] = []
    if config.output.plots:
        from simulator.output.plots import panel_stems, plot_summary

        output = config.output
        files = plot_summary(summary, out_dir / "plots", output.formats, output.per_metric_plots)
        plots = [Path(p) for p in files]
        stems = panel_stems(summary)
        panels = [p for p in plots if p.stem in stems]
    from simulator.output.report import write_report

    write_report(config, panels, simulator.samples)
    return SimulationResult(
        summary, per_image, out_dir, plots, config, len(todo), len(points) - len(todo), elapsed
    )
