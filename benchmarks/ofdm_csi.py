"""BLER over OFDM on 3GPP TDL-A with perfect, LS and LMMSE CSI, and the flat-fading check.

    python benchmarks/ofdm_csi.py [--codewords 192] [--threads 1]

Coded: 16-QAM r=1/2, 5G LDPC n=1024 (20 iterations), sent by DigitalLink over ``model: ofdm`` with
72 subcarriers at 30 kHz, CP 6, 14 OFDM symbols with pilots on symbols 2 and 11, TDL-A with 300 ns
delay spread at 3.5 GHz and 3 m/s, at three SNRs (Es/N0 per resource element), for each CSI mode; and
over flat Rayleigh fading constant over one slot's data symbols (``rayleigh_bl864``, the BLER family
that ``mcs: auto`` uses for ``ofdm``). Flat-fading check: uncoded QPSK over ``ofdm`` with delay spread 0
and perfect CSI (12 x 2 slots) against the closed-form Rayleigh BER. Writes benchmarks/results/ofdm_csi.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sionna.phy  # noqa: E402

from channels import make_channel  # noqa: E402
from channels.phy import MCS, DigitalLink, FECConfig  # noqa: E402

OUT = Path(__file__).parent / "results" / "ofdm_csi.md"
TDL_A = {"multipath": "tdl", "multipath_model": "A", "delay_spread": 300e-9, "ue_speed": 3.0}
CODED_SNR_DB = (10.0, 14.0, 18.0)
FLAT_SNR_DB = (0.0, 10.0, 20.0)
#: Flat check on a small slot (12 subcarriers x 2 OFDM symbols, no pilots): many independent slots.
FLAT_GRID = {"fft_size": 12, "num_ofdm_symbols": 2, "pilot_pattern": "empty", "delay_spread": 0.0}


def coded_bler(
    channel: torch.nn.Module, snr_db: float, codewords: int, seed: int
) -> tuple[int, int]:
    """(block errors flagged by the CRC, codewords) of 16-QAM r=1/2 n=1024 one-codeword payloads."""
    sionna.phy.config.seed = seed
    link = DigitalLink(MCS("16qam", 0.5), FECConfig(), channel)
    rng = np.random.default_rng(seed)
    results = link.transmit(
        [rng.bytes(link.codeword_payload_bytes) for _ in range(codewords)], snr_db
    )
    return sum(int(not r.codeword_ok.all()) for r in results), codewords


def uncoded_qpsk_ber(channel: torch.nn.Module, snr_db: float, num_bytes: int) -> tuple[int, int]:
    """(bit errors, bits) of uncoded QPSK (``fec: none``) through DigitalLink."""
    sionna.phy.config.seed = 0
    link = DigitalLink(MCS("qpsk", 1.0), FECConfig(code="none"), channel)
    [result] = link.transmit([np.random.default_rng(0).bytes(num_bytes)], snr_db)
    return result.bit_errors, result.num_bits


def rayleigh_qpsk_ber(snr_db: float) -> float:
    """Closed-form bit error rate of Gray QPSK over flat Rayleigh fading, Es/N0 = ``snr_db``."""
    g = 10 ** (snr_db / 10) / 2
    return 0.5 * (1 - math.sqrt(g / (1 + g)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codewords", type=int, default=192, help="codewords per coded point")
    parser.add_argument(
        "--flat-bytes", type=int, default=60000, help="payload bytes per flat point"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()
    rows = []
    setups = [
        (f"TDL-A, {csi} CSI", "ofdm", {**TDL_A, "csi": csi}) for csi in ("perfect", "ls", "lmmse")
    ]
    setups.append(("flat Rayleigh per slot (rayleigh_bl864)", "rayleigh", {"block_length": 864}))
    for label, model, params in setups:
        channel = make_channel(model, params)
        cells = []
        for i, snr_db in enumerate(CODED_SNR_DB):
            errors, sent = coded_bler(channel, snr_db, args.codewords, seed=i)
            cells.append(f"{errors / sent:.3f} ({errors}/{sent})")
            print(label, snr_db, cells[-1], f"{time.time() - start:.0f} s", flush=True)
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    flat = make_channel("ofdm", FLAT_GRID)
    flat_rows = []
    for snr_db in FLAT_SNR_DB:
        errors, bits = uncoded_qpsk_ber(flat, snr_db, args.flat_bytes)
        expected = rayleigh_qpsk_ber(snr_db)
        slots = math.ceil(bits / 2 / flat.grid.data_per_slot)
        sigma = math.sqrt(0.5 * expected / slots)
        flat_rows.append(
            f"| {snr_db:.0f} | {errors / bits:.5f} ({errors}/{bits}) | {expected:.5f} | "
            f"{abs(errors / bits - expected) / sigma:.1f} |"
        )
        print("flat", flat_rows[-1], flush=True)
    write_report(args, rows, flat_rows, time.time() - start)


def write_report(
    args: argparse.Namespace, rows: list[str], flat_rows: list[str], seconds: float
) -> None:
    """Write the markdown results file."""
    snrs = " | ".join(f"{s:.0f} dB" for s in CODED_SNR_DB)
    text = f"""# OFDM over TDL-A: BLER with perfect, LS and LMMSE CSI

Command: `python benchmarks/ofdm_csi.py --codewords {args.codewords} --flat-bytes {args.flat_bytes} --threads {args.threads}`
Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} with {args.threads} thread(s), shared with other jobs; {seconds:.0f} s in all.

Grid: 72 subcarriers at 30 kHz, CP 6 samples, 14 OFDM symbols, Kronecker pilots on symbols 2 and 11
(864 data resource elements per slot of 1092 channel uses). Channel: TDL-A, delay spread 300 ns,
3.5 GHz, UE speed 3 m/s, every slot an independent realisation. SNR = Es/N0 per resource element.
LS: least squares on the pilots, linear interpolation (Sionna `LSChannelEstimator`, `"lin"`).
LMMSE: Sionna `LMMSEChannelEstimator`, frequency then time filtering with the TDL-A covariances.
The receiver uses the estimate for zero forcing and adds the estimator's error variance to the noise.

## BLER, 16-QAM r=1/2, 5G LDPC n=1024 (k=512 incl. CRC24B), 20 iterations

| channel | {snrs} |
|---|---|---|---|
{chr(10).join(rows)}

## Flat-fading check: uncoded QPSK over `ofdm` with delay spread 0, perfect CSI

Small slots for many independent realisations: 12 subcarriers x 2 OFDM symbols, no pilots.

Every slot sees one CN(0, 1) coefficient, so the bit error rate must be the flat Rayleigh one,
0.5 (1 - sqrt(g / (1 + g))), g = Eb/N0. Deviation in standard deviations with slots as the
independent trials (sigma <= sqrt(0.5 BER / slots)).

| SNR (dB) | measured BER | closed form | deviation (sigma) |
|---|---|---|---|
{chr(10).join(flat_rows)}
"""
    OUT.write_text(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
