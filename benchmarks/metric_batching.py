"""Time of scoring one point's reconstructions with every metric, by images per forward pass.

    python benchmarks/metric_batching.py [--num-images 16] [--batch-sizes 1 4 8 16] [--device cpu]

The simulator's own :class:`simulator.link.scoring.Scorer` (PSNR, MS-SSIM, LPIPS, mIoU with the shipped
segmenter, Inception features for FID/KID) on noisy copies of synthetic test scenes at 256x512, a fresh
scorer per run (nothing cached but the references' features, computed before timing). Reports wall and
process CPU seconds per image (best of ``--repeats``) and the largest difference of each metric from the
one-image-per-pass results. :func:`simulator.link.scoring.metric_batch_size` picks the batch size from what
this measures. Writes ``benchmarks/results/metric_batching.md`` (``--report``).
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

from simulator.data import make_source  # noqa: E402
from simulator.link.scoring import Scorer  # noqa: E402
from simulator.metrics.segmentation import load_segmenter  # noqa: E402

METRICS = ["psnr", "ms_ssim", "lpips", "miou", "fid", "kid"]
REPORT = Path(__file__).parent / "results" / "metric_batching.md"


def time_point(
    scorer: Scorer, images: list[np.ndarray], device: torch.device
) -> tuple[float, float]:
    """(wall, process CPU) seconds of scoring ``images`` as one point."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    scorer.score_point(images)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=16)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4, 8, 16])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    source = make_source("synthetic", root=None, num_images=args.num_images, height=256,
                         width=512, seed=0, split="test")  # fmt: skip
    samples = [source[i] for i in range(len(source))]
    rng = np.random.default_rng(0)
    images = [np.clip(s.image + rng.normal(0, 8, s.image.shape), 0, 255).astype(np.uint8)
              for s in samples]  # fmt: skip
    segmenter = load_segmenter(device)
    rows, reference = [], None
    for size in args.batch_sizes:
        best = (float("inf"), float("inf"))
        for _ in range(args.repeats):
            scorer = Scorer(METRICS, samples, device, segmenter, size)
            # loads the networks and the references' features; the noisy images are not cached
            scorer.score_point([s.image for s in samples])
            best = min(best, time_point(scorer, images, device))
        result = scorer.score_point(images)
        values = {m: np.array([v[m] for v in result.per_image]) for m in ("psnr", "lpips", "miou")}
        values |= {m: np.array([result.summary[m]]) for m in ("fid", "kid")}
        reference = reference or values
        diff = {m: float(np.max(np.abs(values[m] - reference[m]))) for m in values}
        rows.append((size, best, diff))
        print(size, best, diff, flush=True)
    base = rows[0][1]
    threads = torch.get_num_threads()
    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    )
    lines = [
        "# Scoring one point: images per forward pass of the metric networks",
        "",
        "Command: `"
        + " ".join(["python benchmarks/metric_batching.py", *(argv or sys.argv[1:])])
        + "`",
        "",
        f"Device: {args.device} ({device_name or platform.machine()}), torch {torch.__version__}, "
        f"{threads} CPU threads. {args.num_images} noisy synthetic test scenes at 256x512 scored as "
        f"one point with {', '.join(METRICS)}; best of {args.repeats} fresh scorers.",
        "",
        "| images per pass | wall s / image | CPU s / image | wall vs 1 | max diff psnr | lpips | "
        "miou | fid | kid |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    n = args.num_images
    for size, (wall, cpu), diff in rows:
        lines.append(
            f"| {size} | {wall / n:.3f} | {cpu / n:.3f} | {base[0] / wall:.2f}x | "
            + " | ".join(f"{diff[m]:.2g}" for m in ("psnr", "lpips", "miou", "fid", "kid"))
            + " |"
        )
    args.report.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
