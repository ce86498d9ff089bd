"""mIoU of the shipped segmenter on held-out synthetic scenes (split ``test``), and its speed.

Usage::

    python -m simulator.metrics.segmentation.evaluate --num-images 500 [--weights PATH] [--markdown]
"""

from __future__ import annotations

__all__ = ["evaluate_model", "inference_ms", "main"]

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from simulator.data import CITYSCAPES_CLASSES, NUM_CLASSES
from simulator.data.base import IGNORE_INDEX
from simulator.metrics.miou import ConfusionMatrix
from simulator.metrics.segmentation import WEIGHTS_PATH
from simulator.metrics.segmentation.model import fuse_batchnorm
from simulator.metrics.segmentation.training.cache import build_cache
from simulator.metrics.segmentation.weights_io import load_weights


@torch.inference_mode()
def evaluate_model(
    model: torch.nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
) -> ConfusionMatrix:
    """Confusion matrix of ``model``'s predictions over a set of labelled images.

    :param model: Maps float32 [B, 3, H, W] in [0, 1] to logits [B, 19, H, W]; used as given
        (put it in eval mode first).
    :param images: uint8 [N, H, W, 3] RGB images.
    :param labels: uint8 [N, H, W] trainIds (255 = ignore).
    :param device: Where ``model`` lives.
    :param batch_size: Images per forward pass.
    :return: The accumulated 19-class confusion matrix.
    """
    cm = ConfusionMatrix(num_classes=NUM_CLASSES, ignore_index=IGNORE_INDEX)
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(images[start : start + batch_size]).to(device)
        x = x.permute(0, 3, 1, 2).float() / 255.0
        pred = model(x).argmax(1).cpu()
        cm.update(pred, torch.from_numpy(labels[start : start + batch_size].astype(np.int64)))
    return cm


@torch.inference_mode()
def inference_ms(
    model: torch.nn.Module, height: int, width: int, repeats: int = 20, threads: int = 2
) -> float:
    """Median wall time (ms) of logits + argmax for one image on the CPU with ``threads`` threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        x = torch.rand(1, 3, height, width)
        for _ in range(3):
            model(x).argmax(1)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model(x).argmax(1)
            times.append(time.perf_counter() - t)
        return 1000 * float(np.median(times))
    finally:
        torch.set_num_threads(previous)


def _markdown(cm: ConfusionMatrix, n: int, ms: float) -> str:
    ious = [float(v) for v in cm.per_class_iou()]
    rows = [f"| {name} | {iou:.4f} |" for name, iou in zip(CITYSCAPES_CLASSES, ious, strict=True)]
    return "\n".join(
        [f"mIoU on {n} test scenes: **{cm.miou():.4f}**; inference {ms:.1f} ms per image", "",
         "| class | IoU |", "|---|---|", *rows]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulator.metrics.segmentation.evaluate``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--weights", type=Path, default=WEIGHTS_PATH)
    p.add_argument("--num-images", type=int, default=500)
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=2, help="processes generating scenes")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for the timing")
    args = p.parse_args(argv)

    model, meta = load_weights(args.weights, args.device)
    fuse_batchnorm(model)
    images, labels = build_cache(
        "test", args.num_images, args.height, args.width, args.seed, args.workers
    )
    t = time.perf_counter()
    cm = evaluate_model(model, images, labels, args.device)
    print(f"evaluated {len(images)} scenes in {time.perf_counter() - t:.0f} s")
    ms = inference_ms(model.cpu(), args.height, args.width, threads=args.threads)
    if meta:
        print("training:", {k: v for k, v in meta.items() if k != "history"})
    print(_markdown(cm, len(images), ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
