"""Time of each metric network on one 256x512 reconstruction, as the scorer runs it.

    python benchmarks/metric_networks.py [--threads 2] [--repeats 9] [--images 8]

The reference side is prepared once (as :class:`simulator.link.scoring.Scorer` does), so the ST-LPIPS
row is the reconstruction side alone. It is timed twice: with the trunk's stride-1 max-pools as
``nn.MaxPool2d`` (before session 17) and as :class:`simulator.metrics.alexnet.MaxPool3x3` (now), and the
two scores must be identical. ST-LPIPS and Inception run channels_last since session 20 (the session-20
commit b2705aa of this script timed both layouts). Median wall time of ``--repeats`` calls after one warm-up, on
``--threads`` torch threads and on one.

A second table times a whole point as the scorer computes it: ``--images`` reconstructions through
every metric of the default run (PSNR, MS-SSIM, ST-LPIPS, the segmenter, Inception), one image at a
time on ``--threads`` torch threads (before session 20) and two side by side on half of them each
(:func:`simulator.link.threads.map_side_by_side`, the scorer's way since session 20); it prints the largest
difference between the two modes' scores. Prints Markdown tables (recorded in
``benchmarks/results/throughput.md``).
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

from simulator.data import make_source  # noqa: E402
from simulator.link.scoring import Scorer  # noqa: E402
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
    parser.add_argument("--images", type=int, default=8)
    args = parser.parse_args(argv)
    for threads in (args.threads, 1):
        torch.set_num_threads(threads)
        print_networks(threads, args.repeats)
    torch.set_num_threads(args.threads)
    print_point(args.threads, args.images, args.repeats)
    return 0


def print_networks(threads: int, repeats: int) -> None:
    """The table of each network's time on ``threads`` torch threads."""
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
            ms = median_ms(lambda m=model, p=prepared: m.compare(p, rec), repeats)
            rows.append((f"ST-LPIPS compare, max-pools as {name}", ms))
            scores.append(model.compare(prepared, rec))
        if not torch.equal(*scores):
            raise SystemExit("the two max-pools gave different ST-LPIPS scores")
        features = DistributionMetrics(device=cpu)
        rows.append(
            (
                "Inception-v3 features (FID, KID)",
                median_ms(lambda: features.features(rec), repeats),
            )
        )
        segmenter = load_segmenter(cpu)
        rows.append(("segmenter (mIoU)", median_ms(lambda: segmenter(rec), repeats)))
        rows.append(("MS-SSIM", median_ms(lambda: ms_ssim(ref, rec), repeats)))
    print(f"\n{threads} torch thread(s), one 256x512 image, median of {repeats}")
    print("| network (reconstruction side) | ms per image |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")


def print_point(threads: int, count: int, repeats: int) -> None:
    """The table of one point's scoring, ``count`` images, in the two modes."""
    samples = list(
        make_source("synthetic", root=None, num_images=count, height=256, width=512, seed=0)
    )
    segmenter = load_segmenter(torch.device("cpu"))
    metrics = ["psnr", "ms_ssim", "lpips", "miou", "fid", "kid"]
    scorer = Scorer(metrics, samples, torch.device("cpu"), segmenter)
    generator = torch.Generator().manual_seed(0)

    def reconstructions() -> list:
        noise = [torch.randint(-12, 13, s.image.shape, generator=generator) for s in samples]
        return [
            (torch.from_numpy(s.image).int() + n).clamp(0, 255).byte().numpy()
            for s, n in zip(samples, noise, strict=True)
        ]

    scorer.score_point(reconstructions())  # references prepared, networks warm

    def jobs(images: list) -> list:
        score = [lambda i=i, im=im: scorer._score_batch([i], [im]) for i, im in enumerate(images)]
        return score + [lambda im=im: scorer._inception_batch([im]) for im in images]

    def one_at_a_time(images: list) -> list:
        with torch.inference_mode():
            return [job() for job in jobs(images)]

    modes = {
        f"one image at a time, {threads} torch threads": one_at_a_time,
        f"2 images side by side, {threads // 2} torch thread(s) each": lambda ims: scorer._parallel(
            jobs(ims)
        ),
    }
    runs = max(1, repeats // 3)
    points = [reconstructions() for _ in range(runs)]  # the same images in both modes
    rows, results = [], []
    for name, mode in modes.items():
        times = []
        for images in points:
            start = time.perf_counter()
            results.append(mode(images))
            times.append(time.perf_counter() - start)
        rows.append((name, 1000 * statistics.median(times) / count))
    gaps: dict[str, float] = {}
    for a, b in zip(results[:runs], results[runs:], strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, torch.Tensor):
                gaps["inception"] = max(gaps.get("inception", 0.0), float((x - y).abs().max()))
            else:
                for one, two in zip(x, y, strict=True):
                    for k in one.values:
                        gaps[k] = max(gaps.get(k, 0.0), abs(one.values[k] - two.values[k]))
    print(f"\nOne point of {count} 256x512 images, all six metrics (median of {runs})")
    print("| scoring mode | ms per image |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")
    differences = ", ".join(f"{k} {v:.2g}" for k, v in gaps.items())
    print(f"largest difference between the modes' values: {differences}")


if __name__ == "__main__":
    sys.exit(main())
