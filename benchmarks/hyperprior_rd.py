"""Rate-distortion of the scale hyperprior's three rate points, against JPEG 2000 and BPG at the same
byte budget per image.

    python benchmarks/hyperprior_rd.py [--num-images 200] [--max-minutes 10]

Held-out synthetic test scenes (256x512, seed 0), no channel. For every image and rate point, the
hyperprior stream's length is the budget that JPEG 2000 and BPG (HEVC intra, x265) are rate-controlled
to (``encode(image, max_bytes=len(stream))``); a codec that cannot go that low is counted, not scored.
Metrics are the project's (PSNR peak 1.0, MS-SSIM, ST-LPIPS AlexNet). ``--max-minutes`` stops after
the image in progress; the results say how many images were scored. Writes
benchmarks/results/hyperprior_rd.md, keeping its hand-written sections (from the first ``## `` on).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from simulator.data import make_source
from simulator.metrics import load_lpips, ms_ssim, psnr
from source_codecs import BudgetTooSmall, make_codec
from source_codecs.hyperprior.zoo import RATES

RESULT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "hyperprior_rd.md"
H, W = 256, 512
BASELINES = ("jpeg2000", "bpg")
KEPT = "\n## "
"""The results file from its first level-2 heading on (the reading of the numbers and how the
weights were trained, written by hand from the training logs) is kept as it is."""


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255


class Scores:
    """Per-image bpp and metrics of one (codec, rate point) row; failures to fit counted."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {"bpp": [], "psnr": [], "ms_ssim": [], "lpips": []}
        self.too_small = 0

    def add(self, stream: bytes, ref: torch.Tensor, rec: torch.Tensor, lpips) -> None:
        self.values["bpp"].append(8 * len(stream) / (H * W))
        self.values["psnr"].append(float(psnr(ref, rec)[0]))
        self.values["ms_ssim"].append(float(ms_ssim(ref, rec)[0]))
        self.values["lpips"].append(float(lpips(ref, rec)[0]))

    def row(self, name: str, total: int) -> str:
        scored = len(self.values["bpp"])
        if not scored:
            return f"| {name} | 0 / {total} | | | | |"
        m = {k: np.mean(v) for k, v in self.values.items()}
        return (
            f"| {name} | {scored} / {total} | {m['bpp']:.3f} | {m['psnr']:.2f} | "
            f"{m['ms_ssim']:.4f} | {m['lpips']:.4f} |"
        )


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=200)
    parser.add_argument("--max-minutes", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    source = make_source(
        "synthetic", root=None, num_images=args.num_images, height=H, width=W, seed=0, split="test"
    )
    lpips = load_lpips("cpu")
    learned = {rate: make_codec("hyperprior", {"rate": rate}) for rate in RATES}
    baselines = {name: make_codec(name) for name in BASELINES}
    rows = {(name, rate): Scores() for rate in RATES for name in ("hyperprior", *BASELINES)}
    done = 0
    for i in range(len(source)):
        if args.max_minutes > 0 and time.perf_counter() - start > 60 * args.max_minutes:
            break
        image = source[i].image
        ref = to_tensor(image)
        for rate, codec in learned.items():
            stream = codec.encode(image, None)
            rows["hyperprior", rate].add(stream, ref, to_tensor(codec.decode(stream, H, W)), lpips)
            for name, baseline in baselines.items():
                try:
                    other = baseline.encode(image, len(stream))
                except BudgetTooSmall:
                    rows[name, rate].too_small += 1
                    continue
                rows[name, rate].add(other, ref, to_tensor(baseline.decode(other, H, W)), lpips)
        done += 1
    table = []
    for rate in RATES:
        for name in ("hyperprior", *BASELINES):
            label = f"{name} {rate}" if name == "hyperprior" else f"{name} @ {rate} bytes"
            table.append(rows[name, rate].row(label, done))
    misses = [
        f"{name} could not fit the {rate} budget of {rows[name, rate].too_small} images."
        for rate in RATES
        for name in BASELINES
        if rows[name, rate].too_small
    ]
    elapsed = time.perf_counter() - start
    lines = [
        "# Scale hyperprior: rate-distortion against JPEG 2000 and BPG at the same bytes",
        "",
        f"Command: `python benchmarks/hyperprior_rd.py --num-images {args.num_images}"
        + (f" --max-minutes {args.max_minutes:g}`" if args.max_minutes else "`")
        + f"; {done} of {args.num_images} synthetic test scenes (seed 0, split test) at {H}x{W}, "
        f"no channel; 2-core CPU (no GPU, shared with other jobs), one torch thread, "
        f"{elapsed:.0f} s. {time.strftime('%Y-%m-%d')}.",
        "",
        "Each JPEG 2000 / BPG row is rate-controlled, image by image, to the byte length of the "
        "hyperprior stream of the same rate point (every byte counted: headers included). PSNR in "
        "dB (peak 1.0), MS-SSIM, LPIPS = Shift-Tolerant LPIPS (AlexNet), lower is better.",
        "",
        "| codec | images scored | bpp | PSNR [dB] | MS-SSIM | LPIPS |",
        "|---|---|---|---|---|---|",
        *table,
        "",
        *misses,
    ]
    kept = RESULT.read_text().split(KEPT, 1) if RESULT.is_file() else []
    notes = KEPT.lstrip("\n") + kept[1] if len(kept) == 2 else ""
    RESULT.write_text("\n".join(lines) + "\n\n" + notes)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
