"""Measure and write a BLER table for ``mcs: auto``.

``python -m channels.phy.build_bler_tables --n 1024 --iterations 20 --family awgn``
writes ``channels/phy/bler_tables/ldpc5g_n1024_it20_awgn.json`` (or ``--out``); with
``--add bpsk:0.21:2`` it measures only that MCS (here with 2 repetitions) and adds it to the
existing table; with ``--deepen --max-codewords 10000`` it continues every row of the existing table
with the larger budget (see :func:`channels.phy.measure_tables.deepen_table`), and with
``--deepen --extend-to 50`` it first extends the SNR grid to 50 dB (2 dB steps, ``--extend-step``) for
the rows that have no clean point below the grid's top (block fading). The table is saved after
each row, so an interrupted ``--deepen`` resumes where it stopped when run again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from channels.phy.bler import BLERBudget
from channels.phy.bler_table import BLERTable
from channels.phy.fec import CN_UPDATES, DECODERS, FEC_CODES, FECConfig
from channels.phy.mcs import MCS
from channels.phy.measure_tables import TABLE_DIR, add_to_table, build_bler_table, deepen_table

__all__ = ["main", "parse_mcs"]


def parse_mcs(text: str) -> MCS:
    """``modulation:code_rate[:repetitions]`` (e.g. ``bpsk:0.21:4``) -> :class:`MCS`."""
    modulation, rate, *copies = text.split(":")
    return MCS(modulation, float(rate), int(copies[0]) if copies else 1)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, measure the table, write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", choices=FEC_CODES, default="ldpc5g")
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--cn-update", choices=CN_UPDATES, default="boxplus-phi")
    parser.add_argument(
        "--decoder",
        choices=DECODERS,
        default="auto",
        help="LDPC decoder measured (auto: the fast decoder on the CPU); sionna writes its own "
        "table (<key>_sionna)",
    )
    parser.add_argument("--family", default="awgn", help="awgn | rayleigh | rayleigh_bl<L>")
    parser.add_argument("--min-errors", type=int, default=20)
    parser.add_argument("--max-codewords", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100, help="codewords per transmission")
    parser.add_argument("--seed", type=int, default=None, help="default: 0, with --deepen 1")
    parser.add_argument(
        "--add",
        nargs="+",
        metavar="MCS",
        help="measure only these MCS (modulation:code_rate[:repetitions], e.g. bpsk:0.21 or "
        "bpsk:0.21:4) and add them to the existing table",
    )
    parser.add_argument(
        "--deepen",
        action="store_true",
        help="continue every row of the existing table with this budget (more codewords where "
        "fewer than --min-errors errors were seen)",
    )
    parser.add_argument(
        "--extend-to",
        type=float,
        default=None,
        metavar="DB",
        help="with --deepen: first extend the SNR grid up to DB (for block fading, where a "
        "high-order MCS has no clean point below the grid's top)",
    )
    parser.add_argument("--extend-step", type=float, default=2.0, metavar="DB")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (1 is fastest on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    fec = FECConfig(args.code, args.n, args.iterations, args.cn_update, decoder=args.decoder)
    budget = BLERBudget(
        batch=args.batch, min_errors=args.min_errors, max_codewords=args.max_codewords
    )
    out = args.out or TABLE_DIR / f"{fec.key}_{args.family}.json"
    seed = (1 if args.deepen else 0) if args.seed is None else args.seed
    if args.deepen:
        table = BLERTable.load(out)
        deepen_table(
            table, fec, budget, seed=seed, log=print, extend_to_db=args.extend_to,
            extend_step_db=args.extend_step, on_row=lambda t: t.save(out),
        )  # fmt: skip
    elif args.extend_to is not None:
        parser.error("--extend-to needs --deepen")
    elif args.add:
        table = BLERTable.load(out)
        for name in args.add:
            mcs = parse_mcs(name)
            add_to_table(table, fec, mcs, budget, seed=seed)
            print(f"{args.family} {fec.key} {mcs.name}: {sum(table.codewords[mcs.name])} codewords")
    else:
        table = build_bler_table(
            fec, args.family, budget, seed=seed, log=print, on_row=lambda t: t.save(out)
        )
    table.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
