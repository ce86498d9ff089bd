"""Command line: ``python -m simulator.run CONFIG.yaml [--out DIR] [--resume] [--quiet]``, installed as
``semcom-sim``; ``--list`` prints what a configuration can name, ``--version`` the version.

Exit codes: 0 success; 2 configuration error (one line per problem, naming the key path); 1 any other
failure, with a clear message.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the heavy modules are imported once the command line has been parsed
    from simulator.experiment import SimulationResult

__all__ = ["main"]

USAGE = "%(prog)s CONFIG.yaml [--out DIR] [--resume] [--quiet]\n       %(prog)s --list | --version"
DESCRIPTION = """\
Simulate an image link: source codecs over a Sionna physical layer (CRC, 5G LDPC,
QAM) and a channel model, scored by PSNR, MS-SSIM, LPIPS, mIoU, FID and KID
against SNR and bandwidth ratio."""
EPILOG = """\
exit status: 0 success; 2 configuration error (one line per problem, naming its
key path; nothing is written); 1 any other failure (SEMCOM_DEBUG=1 shows the
traceback). Plug-ins ("package.module:ClassName") import from the working folder."""


def _prog() -> str:
    """``semcom-sim`` when run as that command, else ``python -m simulator.run``."""
    return "semcom-sim" if Path(sys.argv[0]).name == "semcom-sim" else "python -m simulator.run"


def _version() -> str:
    from simulator import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config", nargs="?", metavar="CONFIG.yaml", help="the experiment (see link.yaml)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="output folder (default: output.dir of the configuration)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in the same output folder",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress, messages or result table (problems are still printed)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print every registered codec, channel model and metric with its parameters, and exit",
    )
    parser.add_argument("--version", action="version", version=f"semcom-sim {_version()}")
    return parser


def _report(result: SimulationResult) -> None:
    """The result table, the time and where the results went, on stdout."""
    from simulator.output.table import compact_table

    out = result.out_dir
    print(compact_table(result.summary))
    print(
        f"\n{result.simulated} points simulated in {result.elapsed_s:.1f} s "
        f"({result.resumed} resumed)"
    )
    print(f"summary:   {out / 'summary.csv'}")
    print(f"per image: {out / 'per_image.csv'}")
    print(f"config:    {out / 'config.yaml'}")
    if result.plots:
        print(f"plots:     {out / 'plots'}/ ({len(result.plots)} files)")
    print(f"report:    {out / 'report.html'}")


def run(args: argparse.Namespace) -> int:
    """Run what ``args`` ask for; returns the exit code."""
    if args.list:
        from simulator.catalogue import catalogue

        print("\n".join(catalogue()))
        return 0
    from simulator.config import ConfigError
    from simulator.experiment import simulate
    from simulator.output.results import RunMismatchError

    try:
        result = simulate(args.config, out=args.out, resume=args.resume, quiet=args.quiet)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except RunMismatchError as exc:
        print(f"--resume: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        _report(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.config is None and not args.list:
        parser.error("the following arguments are required: config (or --list)")
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted: finished points are saved; continue with --resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one clear message
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if "SEMCOM_DEBUG" in os.environ:
            traceback.print_exc()
        else:
            print("(set SEMCOM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
