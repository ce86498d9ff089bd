"""Measuring BLER tables: the candidate MCS, their BLER on an SNR grid over a channel family, and the
table of an (FEC, family) pair (committed, cached, or measured on first use).

Choosing an MCS from a table is :mod:`channels.phy.adaptation`. BLER tables are measured by this project over the real :class:`~channels.phy.link.DigitalLink`
(``python -m channels.phy.build_bler_tables``). Tables for the default FEC (5G LDPC n=1024, 20
iterations) on the ``awgn`` and ``rayleigh`` families are committed under ``channels/phy/bler_tables/``;
any other (FEC, family) is measured on first use with a reduced budget and cached under
``~/.cache/semcom-sim/bler/``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from channels.family import family_channel
from channels.phy.bler import BLERBudget, measure_bler
from channels.phy.bler_table import BLERTable
from channels.phy.fec import FECConfig
from channels.phy.framing import CodewordLayout
from channels.phy.link import DigitalLink
from channels.phy.mcs import MCS, MODULATIONS

__all__ = [
    "CACHE_DIR",
    "CODED_MCS",
    "SNR_GRID_DB",
    "TABLE_DIR",
    "UNCODED_MCS",
    "add_to_table",
    "bler_table",
    "build_bler_table",
    "candidate_mcs",
    "deepen_table",
]

#: The 5G-like candidate set for coded links (nominal rates), most robust first.
CODED_MCS: tuple[MCS, ...] = (
    MCS("bpsk", 0.21, repetitions=4),  # below 1/5: the codeword sent 4 (2) times, LLRs combined
    MCS("bpsk", 0.21, repetitions=2),
    MCS("bpsk", 0.21),  # the lowest rate 5G LDPC takes (k/n >= 1/5) with k in whole payload bytes
    MCS("bpsk", 1 / 3),
    MCS("qpsk", 0.21),  # QPSK at 1/2 the rate of BPSK carries as much and needs less SNR: the
    MCS("qpsk", 1 / 4),  # low-rate QPSK rungs (as 5G's CQI table) make steps of 1.2-1.6x, not 2x
    MCS("bpsk", 1 / 2),
    MCS("qpsk", 1 / 3),
    MCS("qpsk", 0.4),
    MCS("qpsk", 1 / 2),
    MCS("qpsk", 2 / 3),
    MCS("qpsk", 3 / 4),
    MCS("16qam", 1 / 2),
    MCS("16qam", 2 / 3),
    MCS("16qam", 3 / 4),
    MCS("64qam", 2 / 3),
    MCS("64qam", 3 / 4),
    MCS("64qam", 5 / 6),
    MCS("256qam", 3 / 4),
    MCS("256qam", 5 / 6),
)
#: Candidates for ``fec: none``.
UNCODED_MCS: tuple[MCS, ...] = tuple(MCS(m, 1.0) for m in MODULATIONS)

SNR_GRID_DB: tuple[float, ...] = tuple(float(s) for s in range(-6, 33))
TABLE_DIR = Path(__file__).parent / "bler_tables"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "semcom-sim" / "bler"
_FIRST_USE_BUDGET = BLERBudget(probe=8, batch=64, min_errors=10, max_codewords=128)


def candidate_mcs(fec: FECConfig) -> list[MCS]:
    """The candidate MCS that ``fec`` can carry (a short ``n`` rules some out), most robust first."""
    candidates = UNCODED_MCS if fec.code == "none" else CODED_MCS
    usable = []
    for mcs in candidates:
        try:
            CodewordLayout.of(mcs, fec)
        except ValueError:
            continue
        usable.append(mcs)
    return usable


def build_bler_table(
    fec: FECConfig,
    family: str,
    budget: BLERBudget,
    snr_grid: tuple[float, ...] = SNR_GRID_DB,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    on_row: Callable[[BLERTable], None] | None = None,
) -> BLERTable:
    """Measure the BLER of every candidate MCS on ``snr_grid`` over the ``family`` channel.

    Per MCS the grid is swept upwards from the highest SNR at which the previous (more robust) MCS
    still failed every probe codeword: a less robust MCS fails there too, so the points below are not
    simulated (stored with 0 codewords, read as BLER 1). Once a point shows no block error in
    ``budget.max_codewords`` codewords, the higher points are not simulated either (0 codewords, BLER 0).

    ``on_row`` is called with the table after each row (e.g. to save it, so that an interrupted
    build keeps its finished rows; ``table.meta`` then holds the provenance so far).
    """
    rng = _seeded(seed)
    channel = family_channel(family)
    table = BLERTable(fec.key, family, list(snr_grid))
    start, first = time.time(), 0
    for mcs in candidate_mcs(fec):
        first = _measure_row(table, _link(mcs, fec, channel), budget, rng, first)
        _progress(log, table, fec, mcs.name, start)
        table.meta = _provenance(budget, seed, start)
        if on_row:
            on_row(table)
    table.meta = _provenance(budget, seed, start)
    return table


def _seeded(seed: int) -> np.random.Generator:
    """Seed Sionna's and torch's generators (reproducible tables); the payloads' generator."""
    import sionna.phy

    sionna.phy.config.seed = seed
    return np.random.default_rng(seed)


def _link(mcs: MCS, fec: FECConfig, channel: torch.nn.Module) -> DigitalLink:
    """The link a table row is measured over."""
    return DigitalLink(mcs, fec, channel, max_batch_codewords=512)


def _progress(
    log: Callable[[str], None] | None, table: BLERTable, fec: FECConfig, name: str, start: float
) -> None:
    """Log a measured row: its codewords and the time since ``start``."""
    if log:
        count = sum(table.codewords[name])
        log(f"{table.family} {fec.key} {name}: {count} codewords, {time.time() - start:.0f} s")


def _provenance(budget: BLERBudget, seed: int, start: float) -> dict[str, Any]:
    """What a measurement stores in a table's ``meta``: its budget, seed and seconds."""
    return {"budget": vars(budget), "seed": seed, "seconds": round(time.time() - start, 1)}


def _measure_row(
    table: BLERTable, link: DigitalLink, budget: BLERBudget, rng: np.random.Generator, first: int
) -> int:
    """Measure ``link``'s MCS on ``table``'s grid from index ``first`` up (lower points stored as
    not simulated) until a point shows no error in ``budget.max_codewords`` codewords; store the
    row in ``table``. A row already in the table is continued: each point's earlier counts are kept
    and added to, saturated points (every codeword failed) are not measured again. Returns the
    highest index at which every codeword failed (or ``first``)."""
    grid = table.snr_db
    name = link.mcs.name
    errors = list(table.errors.get(name, [0] * len(grid)))
    counts = list(table.codewords.get(name, [0] * len(grid)))
    for i in range(first, len(grid)):
        if not (counts[i] and errors[i] == counts[i]):
            errors[i], counts[i] = measure_bler(link, grid[i], budget, rng, errors[i], counts[i])
        if errors[i] == counts[i]:
            first = i  # saturated: a less robust MCS starts here
        if errors[i] == 0 and counts[i] >= budget.max_codewords:
            break
    table.errors[name], table.codewords[name] = errors, counts
    return first


def deepen_table(
    table: BLERTable,
    fec: FECConfig,
    budget: BLERBudget,
    seed: int = 1,
    log: Callable[[str], None] | None = None,
    extend_to_db: float | None = None,
    extend_step_db: float = 2.0,
    on_row: Callable[[BLERTable], None] | None = None,
) -> None:
    """Continue every row of ``table`` with the larger ``budget``, so that it resolves lower BLERs.

    Each MCS row is re-walked from its first simulated point: points short of ``budget.min_errors``
    errors get more codewords (added to their counts), and the walk goes on up the grid until a
    point shows no error in ``budget.max_codewords`` codewords. A 300-codeword table cannot read a
    BLER below 1 % (no error reads 3/300, see :meth:`BLERTable.bler`), yet the per-codeword targets
    of a block of many codewords are far below it (1 % over 16 codewords: 6.3e-4). ``seed`` must
    differ from the table's own so the added codewords are new draws. Records ``budget``, ``seed``
    and the time under ``table.meta["deepened"]``.

    With ``extend_to_db`` the grid first gains points every ``extend_step_db`` dB above its top, up
    to ``extend_to_db``: on block fading the BLER falls only as 1/SNR (the outage of one coefficient
    per codeword), so a high-order MCS can still fail 1 % of its codewords at the grid's top. Rows
    that already have a clean point are not measured there (they read 0, as above any clean point);
    the others walk on into the new points.

    ``on_row`` is called with the table after each row, as in :func:`build_bler_table`. Deepening
    is resumable: a second call with the same budget measures only what the first did not finish
    (points that reached ``budget.min_errors`` errors, or a clean point of ``budget.max_codewords``
    codewords, are not measured again); the seconds of ``meta["deepened"]`` add up over the calls.
    """
    rng = _seeded(seed)
    channel = family_channel(table.family)
    if extend_to_db is not None:
        _extend_grid(table, extend_to_db, extend_step_db)
    by_name = {m.name: m for m in candidate_mcs(fec)}
    earlier = table.meta.get("deepened", {})
    spent = earlier.get("seconds", 0.0) if earlier.get("budget") == vars(budget) else 0.0
    start = time.time() - spent
    for name in table.names:
        if name not in by_name or not any(table.codewords[name]):
            continue
        first = next(i for i, c in enumerate(table.codewords[name]) if c)
        _measure_row(table, _link(by_name[name], fec, channel), budget, rng, first)
        _progress(log, table, fec, name, start)
        table.meta["deepened"] = _provenance(budget, seed, start)
        if on_row:
            on_row(table)
    table.meta["deepened"] = _provenance(budget, seed, start)


def _extend_grid(table: BLERTable, top_db: float, step_db: float) -> None:
    """Append SNR points ``step_db`` apart above ``table``'s grid, up to ``top_db`` (dB), each with
    no codewords yet. Only :func:`deepen_table` calls it, which then measures every row that has no
    clean point, so no row is left reading 0 where it was never shown to be clean."""
    if step_db <= 0:
        raise ValueError(f"extend_step_db must be > 0 dB, got {step_db}")
    added = []
    snr = table.snr_db[-1] + step_db
    while snr <= top_db + 1e-9:
        added.append(round(snr, 6))
        snr += step_db
    table.snr_db = [*table.snr_db, *added]
    for name in table.names:
        table.errors[name] = [*table.errors[name], *[0] * len(added)]
        table.codewords[name] = [*table.codewords[name], *[0] * len(added)]


def add_to_table(
    table: BLERTable, fec: FECConfig, mcs: MCS, budget: BLERBudget, seed: int = 0
) -> None:
    """Measure one more MCS over ``table``'s family and grid (from the grid's first point) and add
    it, recording ``budget`` and ``seed`` under ``table.meta["added"]``; for extending a committed
    table without re-measuring the others."""
    rng = _seeded(seed)
    start = time.time()
    _measure_row(table, _link(mcs, fec, family_channel(table.family)), budget, rng, 0)
    table.meta.setdefault("added", {})[mcs.name] = _provenance(budget, seed, start)


def _table_file(fec: FECConfig, family: str) -> str:
    return f"{fec.key}_{family}.json"


@lru_cache(maxsize=32)
def bler_table(fec: FECConfig, family: str) -> BLERTable:
    """The committed table of (``fec``, ``family``), else the cached one, else one measured now."""
    name = _table_file(fec, family)
    for folder in (TABLE_DIR, CACHE_DIR):
        if (folder / name).is_file():
            return BLERTable.load(folder / name)
    print(
        f"mcs auto: no BLER table for {fec.key} on {family}; measuring one now "
        f"(reduced budget) and caching it in {CACHE_DIR / name}"
    )
    table = build_bler_table(fec, family, _FIRST_USE_BUDGET)
    table.save(CACHE_DIR / name)
    return table
