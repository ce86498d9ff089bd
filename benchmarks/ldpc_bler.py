"""LDPC block error rate: Sionna's LDPC5GDecoder against the fast CPU decoder on the same LLRs.

    python benchmarks/ldpc_bler.py [--codewords 3000] [--min-errors 200] [--points 5] [--quick]
                                   [--families awgn rayleigh] [--lengths 1024 4096]

For QPSK, 16-QAM and 64-QAM at code rates from 0.21 to 0.9, 5G LDPC n = 1024 and 4096 (CRC24B, 20
iterations, CRC-aided early termination: the link's defaults), over AWGN and per-symbol Rayleigh
fading (the ``awgn`` and ``rayleigh`` BLER-table families), two :class:`~channels.phy.DigitalLink`
that differ only in ``fec.decoder`` (``sionna`` and ``fast``) decode the same received LLRs (same
codewords, same noise and fading: :func:`~channels.phy.bler.compare_bler`). The fast decoder runs
layered min-star belief propagation, whose BLER should be no worse than Sionna's flooding
boxplus-phi at the same 20 iterations.

Per curve the SNR points start where a probe through the fast decoder first decodes 10 % of its
codewords (a 0.5 dB scan up from the AWGN Shannon limit) and step up the waterfall until Sionna sees no
block error, at most ``--points`` points. Each point runs until both decoders count ``--min-errors``
block errors or ``--codewords`` codewords are sent. Intervals: Clopper-Pearson 95 %.

Writes benchmarks/results/ldpc_bler.md and ldpc_bler.png (or ``--out``, ``.md`` and ``.png``).
``--quick`` measures one MCS per (channel, n) panel, taking QPSK r=1/3, 16-QAM r=1/2 and 64-QAM r=5/6
in turn, with 2 points of at most 100 codewords (a check that the script works, not a result).
``--families`` and ``--lengths`` restrict the panels. Each finished curve is appended to
``<out>.curves.jsonl`` at once; ``--resume`` skips the curves found there that were measured with
the same budget and seed, so a run stopped part-way goes on where it stopped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sionna.phy  # noqa: E402
import torch  # noqa: E402
from scipy.stats import beta  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.family import family_channel  # noqa: E402
from channels.phy import MCS, DigitalLink, FECConfig  # noqa: E402
from channels.phy.bler import BLERBudget, compare_bler, measure_bler  # noqa: E402

OUT = Path(__file__).parent / "results" / "ldpc_bler.md"
FAMILIES = ("awgn", "rayleigh")
LENGTHS = (1024, 4096)
RATES: dict[str, tuple[float, ...]] = {
    "qpsk": (0.21, 1 / 3, 1 / 2, 3 / 4),
    "16qam": (1 / 3, 1 / 2, 3 / 4, 0.9),
    "64qam": (0.4, 2 / 3, 5 / 6, 0.9),
}
MCS_SET: tuple[MCS, ...] = tuple(MCS(m, r) for m, rates in RATES.items() for r in rates)
QUICK_MCS: tuple[MCS, ...] = (MCS("qpsk", 1 / 3), MCS("16qam", 1 / 2), MCS("64qam", 5 / 6))
DECODERS = ("sionna", "fast")
PROBE = BLERBudget(probe=32, batch=32, min_errors=1, max_codewords=32)
SCAN_STEP_DB = 0.5
#: The fast decoder's default algorithm, part of a curve's resume key: a change of it re-measures.
FAST_ALGORITHM = "layered min-star (4 tangents), lanes <= 64"
SCAN_SUCCESS = 0.1  # the first point: the probe decodes at least this fraction of its codewords


@dataclass(frozen=True)
class Point:
    """One measured SNR point of a curve: block errors of each decoder on the same ``codewords``."""

    snr_db: float
    codewords: int
    errors: tuple[int, ...]  # in DECODERS order


@dataclass(frozen=True)
class Curve:
    """The points of one (family, n, MCS), the fast decoder's schedule and check-node rule, and the
    code dimension k."""

    family: str
    n: int
    mcs: MCS
    k: int
    schedule: str
    rule: str
    points: tuple[Point, ...]
    seconds: float


def curve_key(family: str, n: int, mcs: MCS, budget: BLERBudget, max_points: int, seed: int) -> str:
    """What makes two measurements of a curve the same: its panel, MCS, budget and seed, and the fast
    decoder's algorithm (:data:`FAST_ALGORITHM`)."""
    return json.dumps([family, n, mcs.name, vars(budget), max_points, seed, FAST_ALGORITHM])


def load_curves(path: Path) -> dict[str, Curve]:
    """The curves already written to ``path`` (one JSON object per line), by :func:`curve_key`."""
    curves = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            doc = json.loads(line)
            mcs = MCS(**doc["curve"]["mcs"])
            points = tuple(
                Point(p["snr_db"], p["codewords"], tuple(p["errors"]))
                for p in doc["curve"]["points"]
            )
            curves[doc["key"]] = Curve(**{**doc["curve"], "mcs": mcs, "points": points})
    return curves


def save_curve(path: Path, key: str, curve: Curve) -> None:
    """Append one finished curve to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps({"key": key, "curve": asdict(curve)}) + "\n")


def clopper_pearson(errors: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The exact two-sided binomial confidence interval of ``errors / trials``."""
    tail = (1 - level) / 2
    low = 0.0 if errors == 0 else float(beta.ppf(tail, errors, trials - errors + 1))
    high = 1.0 if errors == trials else float(beta.ppf(1 - tail, errors + 1, trials - errors))
    return low, high


def step_db(family: str, n: int) -> float:
    """SNR step of a curve: the waterfall is about twice as wide on Rayleigh, half as wide at n=4096."""
    return (0.5 if family == "awgn" else 1.0) * (1024 / n) ** 0.5


def shannon_db(mcs: MCS, link: DigitalLink) -> float:
    """Es/N0 (dB) at which AWGN capacity equals the link's information bits per symbol: no code
    decodes below it, on either channel."""
    rate = link.layout.info_bits / link.layout.coded_bits * mcs.bits_per_symbol
    return 10 * math.log10(2**rate - 1)


def first_point(fast: DigitalLink, rng: np.random.Generator) -> float:
    """The lowest SNR of a 0.5 dB scan up from the Shannon limit where the fast decoder's probe
    decodes at least :data:`SCAN_SUCCESS` of its codewords."""
    snr_db = math.floor(shannon_db(fast.mcs, fast) / SCAN_STEP_DB) * SCAN_STEP_DB
    while snr_db < 40:
        errors, sent = measure_bler(fast, snr_db, PROBE, rng)
        if errors <= (1 - SCAN_SUCCESS) * sent:
            return snr_db
        snr_db += SCAN_STEP_DB
    raise RuntimeError(f"{fast.mcs.name}: no SNR below 40 dB decodes")


def measure_curve(
    family: str, n: int, mcs: MCS, budget: BLERBudget, max_points: int, seed: int
) -> Curve:
    """Walk one curve's waterfall (see the module docstring)."""
    sionna.phy.config.seed = seed  # noise and fading
    rng = np.random.default_rng(seed)  # payloads
    channel = family_channel(family)
    links = [DigitalLink(mcs, FECConfig(n=n, decoder=d), channel) for d in DECODERS]
    start = time.time()
    snr_db, points = first_point(links[1], rng), []
    while len(points) < max_points:
        errors, sent = compare_bler(links, snr_db, budget, rng)
        points.append(Point(round(snr_db, 3), sent, tuple(errors)))
        print(f"  {family} n={n} {mcs.name} {snr_db:g} dB: {errors} / {sent}", flush=True)
        if errors[0] == 0:
            break
        snr_db += step_db(family, n)
    k, fast = links[1].layout.info_bits, links[1].decoder
    return Curve(
        family, n, mcs, k, fast.schedule, fast.cn_update, tuple(points), time.time() - start
    )


def verdict(curve: Curve, point: Point) -> str:
    """For the layered schedule ``no worse`` when the fast decoder's BLER is at most Sionna's upper
    bound, else ``WORSE``; for flooding (Sionna's algorithm) ``agree`` when the two intervals
    overlap, else ``differ``."""
    (sionna_low, sionna_high), (fast_low, fast_high) = (
        clopper_pearson(e, point.codewords) for e in point.errors
    )
    if curve.schedule == "layered":
        return "no worse" if point.errors[1] / point.codewords <= sionna_high else "WORSE"
    return "agree" if fast_low <= sionna_high and sionna_low <= fast_high else "differ"


def cell(errors: int, trials: int) -> str:
    """``BLER [low, high]`` of one decoder at one point."""
    low, high = clopper_pearson(errors, trials)
    return f"{errors / trials:.2e} [{low:.1e}, {high:.1e}]"


def table_lines(curves: list[Curve]) -> list[str]:
    """The markdown table: a row per point."""
    lines = [
        "| channel | n | MCS | k | fast schedule, rule | SNR dB | codewords | Sionna BLER [95 %] | "
        "fast BLER [95 %] | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in curves:
        for p in c.points:
            lines.append(
                f"| {c.family} | {c.n} | {c.mcs.name} | {c.k} | {c.schedule} {c.rule} | {p.snr_db:g} | "
                f"{p.codewords} | {cell(p.errors[0], p.codewords)} | "
                f"{cell(p.errors[1], p.codewords)} | {verdict(c, p)} |"
            )
    return lines


def plot(curves: list[Curve], path: Path) -> None:
    """BLER against SNR, one panel per (channel, n), Sionna solid and fast dashed, a colour per MCS."""
    families = list(dict.fromkeys(c.family for c in curves))
    lengths = list(dict.fromkeys(c.n for c in curves))
    fig, axes = plt.subplots(
        len(families), len(lengths), figsize=(6 * len(lengths), 4.5 * len(families)), squeeze=False
    )
    colours = {m.name: plt.cm.tab20(i % 20) for i, m in enumerate(MCS_SET)}
    for row, family in enumerate(families):
        for col, n in enumerate(lengths):
            ax = axes[row][col]
            for c in (c for c in curves if c.family == family and c.n == n):
                snr = [p.snr_db for p in c.points]
                for d, style, marker in ((0, "-", "o"), (1, "--", "x")):
                    bler = [max(p.errors[d], 0.5) / p.codewords for p in c.points]
                    label = f"{c.mcs.name} {'Sionna' if d == 0 else 'fast'}"
                    ax.semilogy(snr, bler, style, marker=marker, ms=4, color=colours[c.mcs.name],
                                label=label)  # fmt: skip
            ax.set(title=f"{family}, n={n}", xlabel="Es/N0 (dB)", ylabel="BLER")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6, ncol=2)
    fig.suptitle(
        "5G LDPC, 20 iterations, same LLRs:\nSionna (solid, o) vs fast decoder (dashed, x)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(args: argparse.Namespace, curves: list[Curve], command: str, seconds: float) -> None:
    """The markdown report and the figure."""
    points = [p for c in curves for p in c.points]
    verdicts = [verdict(c, p) for c in curves for p in c.points]
    summary = ", ".join(f"{v}: {verdicts.count(v)}" for v in dict.fromkeys(verdicts))
    lines = [
        "# LDPC BLER: Sionna's LDPC5GDecoder vs the fast CPU decoder on the same LLRs",
        "",
        f"Command: `{command}`",
        f"Date: {datetime.date.today().isoformat()}. Machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}; {seconds / 60:.1f} min of measurement (the curves' own times, summed "
        f"over resumed runs), {sum(p.codewords for p in points)} codewords "
        "per decoder.",
        "",
        "5G LDPC (CRC24B, 20 iterations, CRC-aided early termination), the project's `DigitalLink` "
        "over the `awgn` and per-symbol `rayleigh` families (perfect CSI, APP demapping); both "
        "decoders decode the same LLRs. Fast decoder: `layered` belief propagation with the "
        "check-node rule of the `rule` column (`min-star`: the exact boxplus with ln(1 + e^-x) "
        "from four tangents). Block errors are CRC failures; intervals are Clopper-Pearson 95 %. "
        "Verdict: `no worse` = the fast BLER is at most Sionna's upper bound.",
        "",
        f"Verdicts: {summary}.",
        "",
        *table_lines(curves),
        "",
        f"Figure: `{args.out.with_suffix('.png').name}` (a point without errors drawn at 0.5 / "
        "codewords).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    plot(curves, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codewords", type=int, default=3000, help="most codewords per point")
    parser.add_argument("--min-errors", type=int, default=200, help="block errors that end a point")
    parser.add_argument("--points", type=int, default=5, help="most SNR points per curve")
    parser.add_argument("--batch", type=int, default=250, help="codewords per transmission")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a check that it runs, not a result")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--lengths", nargs="+", type=int, choices=LENGTHS, default=list(LENGTHS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--resume", action="store_true", help="skip curves already measured")
    args = parser.parse_args()
    if args.quick:
        args.codewords, args.points, args.min_errors = min(args.codewords, 100), 2, 20
    torch.set_num_threads(args.threads)
    budget = BLERBudget(
        probe=min(args.batch, args.codewords),
        batch=args.batch,
        min_errors=args.min_errors,
        max_codewords=args.codewords,
    )
    command = "python benchmarks/ldpc_bler.py " + " ".join(sys.argv[1:])
    done_path = args.out.with_suffix(".curves.jsonl")
    if not args.resume:
        done_path.unlink(missing_ok=True)
    done = load_curves(done_path)
    curves = []
    for family in args.families:
        for n in args.lengths:
            panel = 2 * FAMILIES.index(family) + LENGTHS.index(n)
            chosen = [QUICK_MCS[panel % len(QUICK_MCS)]] if args.quick else MCS_SET
            for i, mcs in enumerate(chosen):
                seed = args.seed + 1000 * panel + i
                key = curve_key(family, n, mcs, budget, args.points, seed)
                if key not in done:
                    done[key] = measure_curve(family, n, mcs, budget, args.points, seed)
                    save_curve(done_path, key, done[key])
                curves.append(done[key])
    write(args, curves, command.strip(), sum(c.seconds for c in curves))


if __name__ == "__main__":
    main()
