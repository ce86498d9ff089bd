"""Time of each metric network on one 256x512 reconstruction, as the scorer runs it.

    python benchmarks/metric_networks.py [--threads 2] [--repeats 9]

The reference side is prepared once (as :class:`simulator.link.scoring.Scorer` does), so the ST-LPIPS
row is the reconstruction side alone. It is timed twice: with the trunk's stride-1 max-pools as
``nn.MaxPool2d`` (before session 17) and as :class:`simulator.metrics.alexnet.MaxPool3x3` (now), and the
two scores must be identical. Median wall time of ``--repeats`` calls after one warm-up. Prints a
Markdown table (recorded in ``benchmarks/results/throughput.md``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.metrics.distribution import DistributionMetrics  # noqa: E402
from simulator.metrics.lpips import load_lpips  # noqa: E402
from simulator.metrics.ms_ssim import ms_ssim  # noqa: E402
from simulator.metrics.segmentation import load_segmenter  # noqa: E402


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call()`` in milliseconds, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = torch.rand(1, 3, 256, 512)
    rec = (ref + 0.05 * torch.randn_like(ref)).clamp(0, 1)
    cpu = torch.device("cpu")
    rows = []
    with torch.no_grad():
        now = load_lpips(cpu)
        before = copy.deepcopy(now)  # load_lpips returns one cached model per device
        for stage, index in (("slice2", "3"), ("slice3", "7")):
            setattr(getattr(before.net, stage), index, torch.nn.MaxPool2d(3, 1))
        scores = []
        for name, model in (("nn.MaxPool2d(3, 1)", before), ("MaxPool3x3", now)):
            prepared = model.reference(ref)
            ms = median_ms(lambda m=model, p=prepared: m.compare(p, rec), args.repeats)
            rows.append((f"ST-LPIPS compare, max-pools as {name}", ms))
            scores.append(model.compare(prepared, rec))
        if not torch.equal(*scores):
            raise SystemExit("the two max-pools gave different ST-LPIPS scores")
        features = DistributionMetrics(device=cpu)
        rows.append(
            (
                "Inception-v3 features (FID, KID)",
                median_ms(lambda: features.features(rec), args.repeats),
            )
        )
        segmenter = load_segmenter(cpu)
        rows.append(("segmenter (mIoU)", median_ms(lambda: segmenter(rec), args.repeats)))
        rows.append(("MS-SSIM", median_ms(lambda: ms_ssim(ref, rec), args.repeats)))
    print(f"{args.threads} torch threads, one 256x512 image, median of {args.repeats}")
    print("| network (reconstruction side) | ms per image |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
