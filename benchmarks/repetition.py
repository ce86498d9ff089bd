"""BLER of the repetition MCS below 5G LDPC's lowest rate: BPSK r=0.21 sent 1, 2 and 4 times.

    python benchmarks/repetition.py [--snr-start -14 --snr-stop -2] [--families awgn rayleigh_bl64]

Each codeword's copies go one after another on the channel and the receiver adds their LLRs (chase
combining; :class:`channels.phy.DigitalLink`). On AWGN a doubling buys at most 3 dB (the same energy
per information bit, twice); on block fading the copies also see different fades (diversity), which
buys more. The committed BLER tables for ``mcs: auto`` start at -6 dB, where both repeated MCS are
already error-free: this benchmark shows the waterfalls below. Writes benchmarks/results/repetition.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.family import family_channel  # noqa: E402
from channels.phy import MCS, DigitalLink, FECConfig  # noqa: E402
from channels.phy.bler import BLERBudget, measure_bler  # noqa: E402

OUT = Path(__file__).parent / "results" / "repetition.md"
COPIES = (1, 2, 4)


def threshold(snrs: list[float], bler: list[float], target: float = 0.01) -> float:
    """The lowest SNR from which the measured BLER stays at or below ``target`` (NaN if never)."""
    ok = [i for i in range(len(snrs)) if all(b <= target for b in bler[i:])]
    return snrs[ok[0]] if ok else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snr-start", type=float, default=-14.0)
    parser.add_argument("--snr-stop", type=float, default=-2.0)
    parser.add_argument("--families", nargs="+", default=["awgn", "rayleigh_bl64"])
    parser.add_argument("--max-codewords", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    snrs = [float(s) for s in np.arange(args.snr_start, args.snr_stop + 1e-9, 1.0)]
    budget = BLERBudget(min_errors=30, max_codewords=args.max_codewords)
    fec = FECConfig()
    lines = [
        "# Repetition below 5G LDPC's lowest rate: BLER of BPSK r=0.21 sent 1, 2, 4 times",
        "",
        f"Command: `python benchmarks/repetition.py --snr-start {args.snr_start:g} --snr-stop "
        f"{args.snr_stop:g} --families {' '.join(args.families)} --max-codewords "
        f"{args.max_codewords}`",
        "",
        f"Machine: {platform.machine()}, torch {torch.__version__}, {args.threads} thread(s). "
        "5G LDPC n=1024, 20 iterations; one codeword per payload (24 payload bytes); "
        f"a point stops at 30 block errors or {args.max_codewords} codewords. "
        "Threshold = lowest SNR from which BLER <= 1 %.",
        "",
    ]
    start = time.time()
    for family in args.families:
        channel = family_channel(family)
        rows, limits = [], []
        for copies in COPIES:
            link = DigitalLink(MCS("bpsk", 0.21, copies), fec, channel, max_batch_codewords=512)
            rng = np.random.default_rng(0)
            measured = [measure_bler(link, snr, budget, rng) for snr in snrs]
            bler = [e / n for e, n in measured]
            limits.append(threshold(snrs, bler))
            cells = " | ".join(f"{b:.3f}" for b in bler)
            rows.append(f"| x{copies} | {cells} | {limits[-1]:g} |")
            print(f"{family} x{copies}: {time.time() - start:.0f} s", flush=True)
        lines += [
            f"## {family}",
            "",
            "| copies | " + " | ".join(f"{s:g}" for s in snrs) + " | threshold [dB] |",
            "|---|" + "---|" * (len(snrs) + 1),
            *rows,
            "",
            f"Gain at BLER 1 %: x2 {limits[0] - limits[1]:g} dB, x4 {limits[0] - limits[2]:g} dB "
            "over one copy.",
            "",
        ]
    lines.append(f"Wall time: {time.time() - start:.0f} s.")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
