"""LDPC decoding throughput: Sionna's LDPC5GDecoder against the fast CPU decoder, side by side.

    python benchmarks/ldpc_throughput.py [--codewords 1024] [--repeats 2] [--n 1024] [--out PATH]

For three MCS (QPSK r=1/3, 16-QAM r=1/2, 64-QAM r=5/6; 5G LDPC n=1024, CRC24B, 20 iterations) at a
waterfall SNR and a clean one, the same AWGN APP-demapper LLRs are decoded by both decoders, in one
process, on 1 thread and on 2 (``torch.set_num_threads``, which the fast decoder follows), each with
CRC-aided early termination (the link's default, rounds of 2 iterations) and with 20 fixed iterations.
Reported: information Mbit/s (k bits, CRC included, per decoded codeword), best of ``--repeats``, and
the block errors of each decoder on the same LLRs.

The waterfall SNR is the lowest point of a 0.5 dB grid where the fast decoder's block error rate on a
probe batch is at most 50 %; the clean SNR is 1 dB above the lowest point where the probe had no error.
Writes benchmarks/results/ldpc_throughput.md (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sionna.phy.fec.ldpc import LDPC5GEncoder  # noqa: E402
from sionna.phy.mapping import Demapper, Mapper  # noqa: E402

from channels.phy import MCS, FECConfig  # noqa: E402
from channels.phy.crc import CRC_LENGTHS, make_crc  # noqa: E402
from channels.phy.early_termination import decode_early_terminated  # noqa: E402
from channels.phy.fast_ldpc import MAX_LANES  # noqa: E402
from channels.phy.fec import make_ldpc_decoder  # noqa: E402
from channels.phy.framing import CodewordLayout  # noqa: E402

OUT = Path(__file__).parent / "results" / "ldpc_throughput.md"
MCS_SET = (MCS("qpsk", 1 / 3), MCS("16qam", 0.5), MCS("64qam", 5 / 6))
ITERATIONS = 20
WARMUP = 32  # codewords decoded once per decoder before timing (numba compile, torch warm-up)
PUBLISHED = "OpenAirInterface AVX2: 7-40 Mbit/s per core; AVX-512 SIMD decoders: 100-220 Mbit/s"


class Code:
    """One MCS's encoder, its two decoders (each with and without early-termination state) and CRC."""

    def __init__(self, mcs: MCS, n: int) -> None:
        fec = FECConfig(n=n, iterations=ITERATIONS)
        layout = CodewordLayout.of(mcs, fec)
        bits = mcs.bits_per_symbol
        self.mcs, self.k = mcs, layout.info_bits
        self.encoder = LDPC5GEncoder(self.k, layout.coded_bits, num_bits_per_symbol=bits)
        self.mapper, self.demapper = Mapper("qam", bits), Demapper("app", "qam", bits)
        self.crc_encoder, self.crc_decoder = make_crc(fec.crc)
        self.decoders = {
            (name, early): make_ldpc_decoder(
                self.encoder, FECConfig(n=n, decoder=name, early_termination=early), "cpu"
            )
            for name in ("sionna", "fast")
            for early in (True, False)
        }

    def llrs(self, count: int, snr_db: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sent information bits [count, k] (CRC attached) and APP logits over AWGN [count, n]."""
        gen = torch.Generator().manual_seed(seed)
        payload = torch.randint(0, 2, (count, self.k - CRC_LENGTHS["CRC24B"]), generator=gen)
        payload = payload.float()
        info = self.crc_encoder(payload)
        x = self.mapper(self.encoder(info))
        no = 10 ** (-snr_db / 10)
        noise = torch.complex(
            torch.randn(x.shape, generator=gen), torch.randn(x.shape, generator=gen)
        )
        return info, self.demapper(x + noise * (no / 2) ** 0.5, torch.tensor(no))

    def decode(self, name: str, early: bool, llr: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Seconds to decode ``llr`` and the CRC verdicts [count] bool."""
        decoder = self.decoders[(name, early)]
        start = time.perf_counter()
        if early:
            _, ok = decode_early_terminated(decoder, self.crc_decoder, llr, ITERATIONS)
        else:
            _, ok = self.crc_decoder(decoder(llr))
        return time.perf_counter() - start, ok.reshape(-1).bool()


def snr_points(code: Code, probe: int) -> tuple[float, float]:
    """(waterfall, clean) SNR in dB, from a probe batch through the fast decoder."""
    waterfall = None
    for snr_db in np.arange(-6.0, 30.0, 0.5):
        _, llr = code.llrs(probe, float(snr_db), seed=1)
        _, ok = code.decode("fast", True, llr)
        bler = 1.0 - ok.float().mean().item()
        if waterfall is None and bler <= 0.5:
            waterfall = float(snr_db)
        if bler == 0.0:
            return waterfall, float(snr_db) + 1.0
    raise RuntimeError(f"{code.mcs.name}: no clean SNR below 30 dB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codewords", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--probe", type=int, default=256, help="codewords of the SNR-finding probe")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows, speedups, fast_rates = [], [], []
    with torch.inference_mode():
        for mcs in MCS_SET:
            code = Code(mcs, args.n)
            warm = code.llrs(WARMUP, 10.0, seed=0)[1]
            for name, early in code.decoders:
                code.decode(name, early, warm)
            for label, snr_db in zip(
                ("waterfall", "clean"), snr_points(code, args.probe), strict=True
            ):
                _, llr = code.llrs(args.codewords, snr_db, seed=2)
                for threads in (1, 2):
                    torch.set_num_threads(threads)
                    for early in (True, False):
                        cells = {}
                        for name in ("sionna", "fast"):
                            runs = [code.decode(name, early, llr) for _ in range(args.repeats)]
                            seconds = min(s for s, _ in runs)
                            errors = int((~runs[0][1]).sum())
                            cells[name] = (args.codewords * code.k / seconds / 1e6, errors)
                        ratio = cells["fast"][0] / cells["sionna"][0]
                        if threads == 1:
                            speedups.append(ratio)
                            fast_rates.append(cells["fast"][0])
                        fast = code.decoders[("fast", early)]
                        schedule = f"{fast.schedule} {fast.cn_update}"
                        rows.append(
                            f"| {mcs.name} | k={code.k} {schedule} | {label} {snr_db:g} dB | {threads} | "
                            f"{'CRC-aided' if early else f'{ITERATIONS} fixed'} | "
                            f"{cells['sionna'][0]:.3f} | {cells['fast'][0]:.2f} | **{ratio:.0f}x** | "
                            f"{cells['sionna'][1]} | {cells['fast'][1]} |"
                        )
                        print(rows[-1], flush=True)
    write(args, rows, speedups, fast_rates, code.decoders[("fast", True)])


def write(
    args: argparse.Namespace,
    rows: list[str],
    speedups: list[float],
    fast_rates: list[float],
    fast: torch.nn.Module,
) -> None:
    command = (
        f"python benchmarks/ldpc_throughput.py --codewords {args.codewords} --repeats "
        f"{args.repeats} --n {args.n} --probe {args.probe}"
    )
    lines = [
        "# LDPC decoding throughput: Sionna vs the fast CPU decoder",
        "",
        f"Command: `{command}`",
        f"Date: {datetime.date.today().isoformat()}. Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__}.",
        "",
        f"5G LDPC n={args.n}, {ITERATIONS} iterations, CRC24B, AWGN, {args.codewords} codewords per "
        f"batch, best of {args.repeats}; the same LLRs go to both decoders. Sionna: `LDPC5GDecoder` "
        "(flooding, boxplus-phi). Fast: `FastLDPC5GDecoder` (numba) with its defaults: "
        f"{fast.schedule} {fast.cn_update}, up to {MAX_LANES} codewords side by side per block; "
        "with CRC-aided early termination, a codeword that is final frees its lane for the next. "
        "Information Mbit/s = codewords x k / seconds.",
        "",
        "| MCS | code, fast schedule | SNR | threads | iterations | Sionna Mbit/s | fast Mbit/s | speed-up | "
        "Sionna block errors | fast block errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Speed-up on one thread: min {min(speedups):.0f}x, median {np.median(speedups):.0f}x, "
        f"max {max(speedups):.0f}x (goal: >= 30x). The fast decoder on one thread: "
        f"{min(fast_rates):.1f}-{max(fast_rates):.1f} Mbit/s; published per-core figures: {PUBLISHED}.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
