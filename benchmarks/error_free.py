"""Shared by the rate benchmarks: codecs on held-out scenes without a channel, scored with every metric.

    from benchmarks.error_free import load_scenes, make_scorer, evaluate

The scorer is the simulator's own (:class:`simulator.link.scoring.Scorer`, the shipped segmenter for mIoU), so
the numbers mean exactly what they mean in a link run. An image that a codec cannot fit into its budget
is scored as the data source's mean-colour fallback (as on the link) and counted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from simulator.data import Sample, make_source
from simulator.link.scoring import Scorer, metric_batch_size
from simulator.metrics.segmentation import load_segmenter
from source_codecs import BudgetTooSmall, CodecBase

__all__ = [
    "METRICS",
    "add_rows_args",
    "bench_parser",
    "evaluate",
    "load_scenes",
    "make_scorer",
    "markdown_table",
    "measured_or_merged",
    "save_axes",
    "write_report",
]

METRICS = ("psnr", "ms_ssim", "lpips", "miou", "fid", "kid")


def bench_parser(doc: str, report: Path, num_images: int = 200) -> argparse.ArgumentParser:
    """An argument parser with the options every rate benchmark has: ``--num-images``, ``--device``,
    ``--report``; its description is the first paragraph of ``doc``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--num-images", type=int, default=num_images)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", type=Path, default=report)
    return parser


def add_rows_args(parser: argparse.ArgumentParser) -> None:
    """``--rows-out`` and ``--merge``: measure parts of a benchmark in separate processes (one per
    core), then write the report from their rows."""
    parser.add_argument("--rows-out", type=Path, help="also write the measured rows to this CSV")
    parser.add_argument("--merge", nargs="+", type=Path,
                        help="measure nothing: write the report from these --rows-out CSVs")  # fmt: skip


def measured_or_merged(
    args: argparse.Namespace, measure: Callable[[argparse.Namespace], pd.DataFrame]
) -> pd.DataFrame:
    """The rows of ``args.merge`` 's CSVs, or ``measure(args)`` ; written to ``args.rows_out`` if set."""
    if args.merge:
        frame = pd.concat([pd.read_csv(p) for p in args.merge], ignore_index=True)
    else:
        frame = measure(args)
    if args.rows_out:
        frame.to_csv(args.rows_out, index=False)
    return frame


def load_scenes(
    num_images: int, height: int = 256, width: int = 512, split: str = "test"
) -> tuple[list[Sample], np.ndarray]:
    """Synthetic scenes (seed 0) and the source's fallback image, uint8 [H, W, 3]."""
    source = make_source(
        "synthetic", root=None, num_images=num_images, height=height, width=width, seed=0,
        split=split,
    )  # fmt: skip
    fallback = np.broadcast_to(
        np.round(np.asarray(source.mean_color)).clip(0, 255).astype(np.uint8), (height, width, 3)
    ).copy()
    return [source[i] for i in range(len(source))], fallback


def make_scorer(
    samples: Sequence[Sample], device: str = "cpu", metrics: Sequence[str] = METRICS
) -> Scorer:
    """The simulator's scorer for ``samples`` with the shipped segmenter."""
    dev = torch.device(device)
    segmenter = load_segmenter(dev) if "miou" in metrics else None
    return Scorer(list(metrics), samples, dev, segmenter, metric_batch_size(dev))


def evaluate(
    codec: CodecBase,
    samples: Sequence[Sample],
    fallback: np.ndarray,
    scorer: Scorer,
    budget: Callable[[Sample], int | None] | int | None = None,
) -> dict[str, Any]:
    """Encode, decode and score every sample; ``budget`` is bytes per image (or a function of the
    sample; None = the codec's default rate).

    :return: ``bpp`` (mean over the images that fit, every byte counted), ``fit`` (fraction that
        fit), ``bytes`` (per image, 0 for those that did not) and the scorer's summary metrics.
    """
    images, sizes = [], []
    for sample in samples:
        height, width = sample.image.shape[:2]
        limit = budget(sample) if callable(budget) else budget
        try:
            stream = codec.encode(sample.image, limit, labels=sample.labels)
        except BudgetTooSmall:
            images.append(fallback)
            sizes.append(0)
            continue
        images.append(codec.decode(stream, height, width))
        sizes.append(len(stream))
    pixels = samples[0].image.shape[0] * samples[0].image.shape[1]
    fitted = [8 * n / pixels for n in sizes if n]
    summary = scorer.score_point(images).summary
    return {
        "bpp": float(np.mean(fitted)) if fitted else float("nan"),
        "fit": len(fitted) / len(samples),
        "bytes": sizes,
        **summary,
    }


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table, numbers with 4 significant digits, NaN as an empty cell."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def write_report(
    path: Path,
    title: str,
    started: float,
    setting: str,
    body: Sequence[str],
    argv: list[str] | None,
) -> None:
    """Write a result file: the title, the exact command, wall time, machine and date, ``setting``
    (what was measured), then ``body`` (Markdown lines)."""
    args = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *args])
    header = (
        f"Command: `{command}` ({time.perf_counter() - started:.0f} s, 2-core CPU, no GPU, "
        f"{time.strftime('%Y-%m-%d')}). {setting}"
    )
    path.write_text("\n".join([f"# {title}", "", header, "", *body]) + "\n")
    print(f"wrote {path}")


def save_axes(fig: Any, ax: Any, path: Path) -> None:
    """Finish a one-panel matplotlib figure (grid, legend, tight layout) and write it as a PNG."""
    import matplotlib.pyplot as plt

    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
