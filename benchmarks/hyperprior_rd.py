"""Rate-distortion of the scale hyperprior's three rate points, or of its variable-rate model at a
set of bitrates, against JPEG 2000 and BPG at the same byte budget per image.

    python benchmarks/hyperprior_rd.py [--num-images 200] [--max-minutes 10]
    python benchmarks/hyperprior_rd.py --variable runs/hp_vr/weights.pt --bpps 0.05 0.1 0.2 0.4 1

Held-out synthetic test scenes (256x512, seed 0), no channel. For every image and rate point, the
hyperprior stream's length is the budget that JPEG 2000 and BPG (HEVC intra, x265) are rate-controlled
to (``encode(image, max_bytes=len(stream))``); a codec that cannot go that low is counted, not scored.
With ``--variable WEIGHTS`` the rows are bitrates instead: the variable-rate model (``rate:
variable``) is rate-controlled to bpp * H * W / 8 bytes, the baselines to its stream's length.
Metrics are the project's (PSNR peak 1.0, MS-SSIM, ST-LPIPS AlexNet) and each decoder's time per
image (``--threads`` torch threads, default 1). ``--max-minutes`` stops after the image in progress; the results say how
many images were scored. Writes benchmarks/results/hyperprior_rd.md (``--variable``:
hyperprior_variable_rd.md), keeping its hand-written sections (from the first ``## `` on).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the codecs of this checkout, not an installed one

from throughput import hand_written, machine  # noqa: E402

from simulator.data import make_source  # noqa: E402
from simulator.metrics import load_lpips, ms_ssim, psnr  # noqa: E402
from source_codecs import BudgetTooSmall, make_codec  # noqa: E402
from source_codecs.hyperprior.zoo import RATES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
H, W = 256, 512
BASELINES = ("jpeg2000", "bpg")
KEPT = "## "
"""The results file from its first level-2 heading on (the reading of the numbers and how the
weights were trained, written by hand from the training logs) is kept as it is."""


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255


class Scores:
    """Per-image bpp, metrics and decode time of one (codec, rate) row; failures to fit counted."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {
            "bpp": [],
            "psnr": [],
            "ms_ssim": [],
            "lpips": [],
            "decode_s": [],
        }
        self.too_small = 0

    def add(self, codec, stream: bytes, ref: torch.Tensor, lpips) -> None:
        """Decode ``stream`` (timed) and score it against ``ref`` [1, 3, H, W]."""
        start = time.perf_counter()
        rec = to_tensor(codec.decode(stream, H, W))
        self.values["decode_s"].append(time.perf_counter() - start)
        self.values["bpp"].append(8 * len(stream) / (H * W))
        self.values["psnr"].append(float(psnr(ref, rec)[0]))
        self.values["ms_ssim"].append(float(ms_ssim(ref, rec)[0]))
        self.values["lpips"].append(float(lpips(ref, rec)[0]))

    def row(self, name: str, total: int) -> str:
        scored = len(self.values["bpp"])
        if not scored:
            return f"| {name} | 0 / {total} | | | | | |"
        m = {k: np.mean(v) for k, v in self.values.items()}
        return (
            f"| {name} | {scored} / {total} | {m['bpp']:.3f} | {m['psnr']:.2f} | "
            f"{m['ms_ssim']:.4f} | {m['lpips']:.4f} | {m['decode_s']:.3f} |"
        )


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=200)
    parser.add_argument("--max-minutes", type=float, default=0.0)
    parser.add_argument(
        "--variable", metavar="WEIGHTS", default=None, help="the variable-rate model's weights"
    )
    parser.add_argument("--bpps", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
    parser.add_argument("--baselines", nargs="+", default=list(BASELINES), choices=BASELINES)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    source = make_source(
        "synthetic", root=None, num_images=args.num_images, height=H, width=W, seed=0, split="test"
    )
    lpips = load_lpips("cpu")
    if args.variable is None:  # each rate point's own stream, no budget
        variable = None
        budgets: dict[str, int | None] = dict.fromkeys(RATES)
        learned = {rate: make_codec("hyperprior", {"rate": rate}) for rate in RATES}
    else:  # the variable-rate model rate-controlled to each bitrate
        variable = make_codec("hyperprior", {"rate": "variable", "weights": args.variable})
        budgets = {f"{bpp:g} bpp": int(bpp * H * W / 8) for bpp in args.bpps}
        learned = dict.fromkeys(budgets, variable)
    baselines = {name: make_codec(name) for name in args.baselines}
    names = ("hyperprior", *baselines)
    rows = {(name, rate): Scores() for rate in budgets for name in names}
    done = 0
    for i in range(len(source)):
        if args.max_minutes > 0 and time.perf_counter() - start > 60 * args.max_minutes:
            break
        image = source[i].image
        ref = to_tensor(image)
        for rate, codec in learned.items():
            try:
                stream = codec.encode(image, budgets[rate])
            except BudgetTooSmall:
                rows["hyperprior", rate].too_small += 1
                continue
            rows["hyperprior", rate].add(codec, stream, ref, lpips)
            for name, baseline in baselines.items():
                try:
                    other = baseline.encode(image, len(stream))
                except BudgetTooSmall:
                    rows[name, rate].too_small += 1
                    continue
                rows[name, rate].add(baseline, other, ref, lpips)
        done += 1
    table = []
    for rate in budgets:
        for name in names:
            against = f"hyperprior {rate}" if variable else rate
            label = f"{name} {rate}" if name == "hyperprior" else f"{name} @ {against} bytes"
            table.append(rows[name, rate].row(label, done))
    misses = [
        f"{name} could not fit the {rate} budget of {rows[name, rate].too_small} images."
        for rate in budgets
        for name in names
        if rows[name, rate].too_small
    ]
    elapsed = time.perf_counter() - start
    options = f" --variable {args.variable} --bpps {' '.join(f'{b:g}' for b in args.bpps)}"
    options = (options if variable else "") + (
        f" --max-minutes {args.max_minutes:g}" if args.max_minutes else ""
    )
    if tuple(args.baselines) != BASELINES:
        options += " --baselines " + " ".join(args.baselines)
    if args.threads != 1:
        options += f" --threads {args.threads}"
    what = "its variable-rate model's" if variable else "its rate points'"
    lines = [
        f"# Scale hyperprior ({what} streams): rate-distortion against "
        + " and ".join(baselines)
        + " at the same bytes",
        "",
        f"Command: `python benchmarks/hyperprior_rd.py --num-images {args.num_images}{options}`; "
        f"{done} of {args.num_images} synthetic test scenes (seed 0, split test) at {H}x{W}, "
        f"no channel. Machine: {machine()}; {args.threads} torch thread(s); "
        f"{elapsed:.0f} s. {time.strftime('%Y-%m-%d')}.",
        "",
        "Each baseline row is rate-controlled, image by image, to the byte length of the "
        "hyperprior stream of the same row (every byte counted: headers included)"
        + ("; that stream is rate-controlled to the row's bitrate" if variable else "")
        + ". PSNR in dB (peak 1.0), MS-SSIM, LPIPS = "
        "Shift-Tolerant LPIPS (AlexNet), lower is better; decode = the decoder's wall-clock "
        "seconds per image.",
        "",
        "| codec | images scored | bpp | PSNR [dB] | MS-SSIM | LPIPS | decode [s] |",
        "|---|---|---|---|---|---|---|",
        *table,
        "",
        *misses,
    ]
    result = RESULTS / ("hyperprior_variable_rd.md" if variable else "hyperprior_rd.md")
    result.write_text("\n".join(lines) + "\n\n" + hand_written(result, KEPT))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
