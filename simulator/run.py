"""Command line: ``python -m simulator.run CONFIG.yaml [--out DIR] [--resume] [--quiet]``.

Exit codes: 0 success; 2 configuration error (one line per problem, naming the key path); 1 any other
failure, with a clear message.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # the heavy modules are imported once the command line has been parsed
    from simulator.config import Config
    from simulator.pipeline import LinkSimulator
    from simulator.results import ResultStore

__all__ = ["main"]

TABLE_COLUMNS = ["codec", "channel", "bandwidth_ratio", "snr_db", "mcs", "bpp", "bler", "psnr",
                 "ms_ssim", "lpips", "miou", "fid"]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.run",
        description="Simulate an image link: source codecs over a Sionna physical layer and channel.",
    )
    parser.add_argument("config", help="the experiment's YAML file (see link.yaml)")
    parser.add_argument("--out", help="output folder (default: output.dir of the configuration)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in the same output folder",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no result table")
    return parser


def _table(summary: pd.DataFrame) -> str:
    from simulator.plots import ratio_label

    frame = summary[[c for c in TABLE_COLUMNS if c in summary]].copy()
    frame = frame.dropna(axis=1, how="all")
    frame["bandwidth_ratio"] = frame["bandwidth_ratio"].map(ratio_label)
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")


def _prepare(
    args: argparse.Namespace, log: Callable[[str], None]
) -> tuple[Config, ResultStore, LinkSimulator, int] | int:
    """The configuration, the result store (started, or resumed), the simulator and the number of
    points already finished; or the exit code 2 after printing the configuration's problems."""
    from simulator.config import ConfigError, dump_config, load_config

    try:
        config = load_config(args.config)
        if args.out:
            config = config.model_copy(
                update={"output": config.output.model_copy(update={"dir": args.out})}
            )
        from simulator.pipeline import LinkSimulator
        from simulator.results import ResultStore, RunMismatchError

        store = ResultStore(Path(config.output.dir))
        # What decides whether --resume may continue: everything but the output (where results go, how
        # they are drawn, how many thumbnails the gallery keeps) and how the run executes.
        identity = config.model_copy(update={"output": None, "execution": None})
        try:
            found = store.start(dump_config(config), dump_config(identity), resume=args.resume)
        except RunMismatchError as exc:
            print(f"--resume: {exc}", file=sys.stderr)
            return 2
        simulator = LinkSimulator(config, log=log)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    return config, store, simulator, found


def _report(
    summary: pd.DataFrame, out: Path, simulated: int, resumed: int, elapsed: float, plots: list
) -> None:
    """The result table, the time and where the results went, on stdout."""
    print(_table(summary))
    print(f"\n{simulated} points simulated in {elapsed:.1f} s ({resumed} resumed)")
    print(f"summary:   {out / 'summary.csv'}")
    print(f"per image: {out / 'per_image.csv'}")
    print(f"config:    {out / 'config.yaml'}")
    if plots:
        print(f"plots:     {out / 'plots'}/ ({len(plots)} files)")
    print(f"report:    {out / 'report.html'}")


def run(args: argparse.Namespace) -> int:
    """Run the sweep described by ``args``; returns the exit code."""
    log = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    prepared = _prepare(args, log)
    if isinstance(prepared, int):
        return prepared
    config, store, simulator, found = prepared
    from tqdm import tqdm

    from simulator.executors import PointExecutor
    from simulator.sweep import sweep_points

    out, points, done = Path(config.output.dir), sweep_points(config), store.finished_keys()
    todo = [p for p in points if p.key not in done]
    if args.resume:
        log(f"resuming in {out}: {found} of {len(points)} points already finished")
    start = time.perf_counter()
    show_bar = not args.quiet and sys.stderr.isatty()
    with tqdm(
        total=len(todo), desc="points", unit="pt", disable=not show_bar, file=sys.stderr
    ) as bar:
        for point, summary_row, image_rows in PointExecutor(config, simulator).run(todo):
            store.write_point(point.index, point.key, summary_row, image_rows)
            bar.update()
    summary, _ = store.write_csvs()
    plots = []
    if config.output.plots:
        from simulator.plots import plot_summary

        plots = plot_summary(summary, out / "plots", config.output.formats)
    from simulator.report import write_report

    write_report(config, plots, simulator.samples)
    if not args.quiet:
        elapsed = time.perf_counter() - start
        _report(summary, out, len(todo), len(points) - len(todo), elapsed, plots)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted: finished points are saved; continue with --resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one clear message
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if "SEMCOM_DEBUG" in __import__("os").environ:
            traceback.print_exc()
        else:
            print("(set SEMCOM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
