"""Throughput of DigitalLink's LDPC path against bare Sionna blocks, plus BLER and auto-MCS samples.

    python benchmarks/ldpc_overhead.py [--codewords 512] [--repeats 3] [--threads 2]

Both paths send the same number of 16-QAM r=1/2 codewords (5G LDPC n=1024, 20 iterations, boxplus-phi)
over AWGN at 10 dB in the same process, alternating, best of ``--repeats``. Bare Sionna: LDPC5GEncoder ->
Mapper -> AWGN -> Demapper -> LDPC5GDecoder on random bits. DigitalLink adds byte segmentation, CRC,
the channel-row layout, ZF equalisation and per-symbol noise variances. Writes
benchmarks/results/ldpc_overhead.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sionna.phy.channel import AWGN  # noqa: E402
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder  # noqa: E402
from sionna.phy.mapping import Demapper, Mapper  # noqa: E402

from channels import make_channel, noise_variance  # noqa: E402
from channels.phy import MCS, DigitalLink, FECConfig  # noqa: E402
from channels.phy.adaptation import auto_mcs  # noqa: E402
from channels.phy.measure_tables import TABLE_DIR, bler_table  # noqa: E402

SNR_DB = 10.0
OUT = Path(__file__).parent / "results" / "ldpc_overhead.md"


def raw_sionna(k, n, bits_per_symbol, codewords, snr_db):
    """Seconds for one batch through bare Sionna blocks; returns (seconds, block errors)."""
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=bits_per_symbol)
    decoder = LDPC5GDecoder(encoder, num_iter=20)
    mapper, demapper, awgn = (
        Mapper("qam", bits_per_symbol),
        Demapper("app", "qam", bits_per_symbol),
        AWGN(),
    )
    no = noise_variance(snr_db)
    with torch.inference_mode():
        start = time.perf_counter()
        bits = torch.randint(0, 2, (codewords, k)).float()
        decoded = decoder(demapper(awgn(mapper(encoder(bits)), no), no))
        seconds = time.perf_counter() - start
    return seconds, int((decoded != bits).any(dim=1).sum())


def digital_link(link, codewords, snr_db, rng):
    """Seconds for the same number of codewords through DigitalLink.transmit; returns (seconds, errors)."""
    payload = rng.bytes(codewords * link.codeword_payload_bytes)
    start = time.perf_counter()
    [result] = link.transmit([payload], snr_db)
    return time.perf_counter() - start, int((~result.codeword_ok).sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codewords", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    mcs, fec = MCS("16qam", 0.5), FECConfig()
    link = DigitalLink(mcs, fec, make_channel("awgn"))
    k, n = link.layout.info_bits, link.layout.coded_bits
    rng = np.random.default_rng(0)
    raw_times, link_times = [], []
    for _ in range(args.repeats):
        raw_times.append(raw_sionna(k, n, mcs.bits_per_symbol, args.codewords, SNR_DB))
        link_times.append(digital_link(link, args.codewords, SNR_DB, rng))
    raw_s = min(t for t, _ in raw_times)
    link_s = min(t for t, _ in link_times)
    raw_rate = args.codewords * k / raw_s / 1e6
    link_rate = args.codewords * 8 * link.codeword_payload_bytes / link_s / 1e6
    lines = [
        "# DigitalLink LDPC path vs bare Sionna",
        "",
        f"Command: `python benchmarks/ldpc_overhead.py --codewords {args.codewords} "
        f"--repeats {args.repeats}{f' --threads {args.threads}' if args.threads else ''}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; the machine was shared with "
        "other jobs, so absolute rates are low and noisy; the ratio is what this measures.",
        "",
        f"{mcs.name}, 5G LDPC k={k} n={n}, 20 iterations boxplus-phi, AWGN {SNR_DB} dB, "
        f"{args.codewords} codewords per batch, best of {args.repeats}.",
        "",
        "| path | seconds | Mbit/s | block errors |",
        "|---|---|---|---|",
        f"| bare Sionna (k info bits incl. CRC) | {raw_s:.2f} | {raw_rate:.4f} | {raw_times[0][1]} |",
        f"| DigitalLink.transmit (payload bits) | {link_s:.2f} | {link_rate:.4f} | {link_times[0][1]} |",
        "",
        f"Time ratio DigitalLink / bare Sionna: **{link_s / raw_s:.3f}** (target <= 1.2). DigitalLink "
        f"carries {8 * link.codeword_payload_bytes} payload bits of the k={k} (the rest is CRC24B).",
        "",
    ]
    lines += bler_section(mcs, fec)
    text = "\n".join(lines) + "\n"
    OUT.write_text(text)
    print(text)


def bler_section(mcs, fec):
    """BLER of ``mcs`` from the committed tables at three SNRs, and auto_mcs picks."""
    lines = ["## BLER and link adaptation (committed tables, `channels/phy/bler_tables/`)", ""]
    for family in ("awgn", "rayleigh"):
        if not (TABLE_DIR / f"{fec.key}_{family}.json").is_file():
            lines.append(f"- {family}: no committed table")
            continue
        table = bler_table(fec, family)
        measured = table.measured(mcs.name)
        falling = [i for i, c in enumerate(table.codewords[mcs.name]) if c and measured[i] < 1]
        first = falling[0] if falling else len(measured) - 1
        points = [i for i in (first - 1, first, first + 1) if 0 <= i < len(measured)]
        cells = ", ".join(
            f"{table.snr_db[i]:g} dB: {measured[i]:.3f} ({table.errors[mcs.name][i]}/"
            f"{table.codewords[mcs.name][i]})"
            for i in points
        )
        lines.append(f"- {family}, {mcs.name}: BLER {cells}")
        picks = ", ".join(f"{s} dB -> {auto_mcs(s, fec, family).name}" for s in (0, 10, 20))
        lines.append(f"- {family}, auto_mcs (BLER <= 10 %): {picks}")
    return lines


if __name__ == "__main__":
    main()
