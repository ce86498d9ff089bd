"""Train the segmenter on labelled synthetic street scenes (split ``train``), validate on ``val``.

Usage::

    python -m simulator.metrics.segmentation.training.train \\
        --out simulator/metrics/segmentation/weights/segmenter.pt \\
        --steps 2000 --batch 8 --height 256 --width 512 [--device cpu|cuda] [--resume CKPT]

Scenes are generated once into memory (``--num-scenes`` of them), then every step draws a batch,
augments it (:mod:`~simulator.metrics.segmentation.training.augment`: crops, flips, JPEG, blur, noise, colour)
and takes an AdamW step on a class-weighted cross-entropy (warm-up, then cosine decay of the learning rate). A resumable
checkpoint is written every ``--checkpoint-every`` steps; the final weights go to ``--out``.

Widening: ``--resume CKPT --restart-schedule`` with a larger ``--full-width`` and / or more
``--context-dilations`` (appended to the checkpoint's) than the checkpoint's network goes on in the
wider network (:func:`~simulator.metrics.segmentation.training.widen.widen`: the same outputs at
first, new channels free to learn) with a fresh optimiser and a fresh warm-up; the other
architecture options must match the checkpoint's.
"""

from __future__ import annotations

__all__ = ["class_weights", "lr_factor", "main", "parse_args", "train"]

import argparse
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from simulator.data.base import CITYSCAPES_CLASSES, IGNORE_INDEX, NUM_CLASSES
from simulator.metrics.segmentation.evaluate import evaluate_model
from simulator.metrics.segmentation.model import Segmenter, SegmenterConfig
from simulator.metrics.segmentation.training.augment import AugmentConfig, augment_batch
from simulator.metrics.segmentation.training.cache import build_cache
from simulator.metrics.segmentation.training.sampling import CropSampler
from simulator.metrics.segmentation.training.widen import widen, widening_changes
from simulator.metrics.segmentation.weights_io import save_weights
from source_codecs.allocator import keep_freed_memory
from source_codecs.training import AUTOCAST_CHOICES, use_bf16


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the training script."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--out", type=Path, required=True, help="final weights file (.pt)")
    p.add_argument("--steps", type=int, default=2000, help="optimiser steps in total")
    p.add_argument("--batch", type=int, default=8, help="images per step")
    p.add_argument("--height", type=int, default=256, help="scene height (pixels)")
    p.add_argument("--width", type=int, default=512, help="scene width (pixels)")
    p.add_argument("--crop", type=int, nargs=2, default=None, metavar=("H", "W"),
                   help="random training crop (default: the whole scene)")  # fmt: skip
    p.add_argument("--num-scenes", type=int, default=1500, help="training scenes held in memory")
    p.add_argument("--num-val", type=int, default=64, help="validation scenes")
    p.add_argument("--lr", type=float, default=4e-3, help="peak learning rate (AdamW)")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--widths", type=int, nargs=4, default=list(SegmenterConfig.widths))
    p.add_argument("--decoder-width", type=int, default=SegmenterConfig.decoder_width)
    p.add_argument("--full-width", type=int, default=SegmenterConfig.full_width,
                   help="channels of the full-resolution path (0: predict at stride 2)")  # fmt: skip
    p.add_argument("--context-dilations", type=int, nargs="+",
                   default=list(SegmenterConfig.context_dilations),
                   help="dilations of the residual context blocks at stride 16")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    p.add_argument("--workers", type=int, default=1, help="processes generating scenes")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="resumable checkpoint (default: OUT with suffix .ckpt)")  # fmt: skip
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--resume", type=Path, default=None, help="checkpoint to continue from")
    p.add_argument("--restart-schedule", action="store_true",
                   help="with --resume: keep the weights and the optimiser, but run a fresh "
                        "warm-up and cosine schedule over --steps / --max-minutes from there")  # fmt: skip
    p.add_argument("--autocast", choices=AUTOCAST_CHOICES, default="auto",
                   help="bf16 autocast (auto: on CUDA, and on a CPU with native bf16 kernels)")  # fmt: skip
    p.add_argument("--rare-crop-prob", type=float, default=0.0,
                   help="probability that a training crop is centred on a pixel of a rare class")  # fmt: skip
    p.add_argument("--focus-class", action="append", default=[], metavar="NAME=W",
                   help="draw crops centred on this class W times as often as on other rare "
                        "classes (repeatable, e.g. --focus-class rider=3)")  # fmt: skip
    p.add_argument("--weight-cap", type=float, default=4.0,
                   help="upper clip of the class weights of the cross-entropy")  # fmt: skip
    p.add_argument("--max-minutes", type=float, default=None,
                   help="training-time budget: the learning rate anneals by then and training "
                        "stops, even if steps remain (the steps done are recorded)")  # fmt: skip
    args = p.parse_args(argv)
    args.focus_weights = _focus_weights(p, args.focus_class)
    return args


def _focus_weights(parser: argparse.ArgumentParser, items: list[str]) -> dict[int, float]:
    """``["rider=3", ...]`` as {trainId: weight}; a bad item is a usage error (exit 2)."""
    weights: dict[int, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = 0.0
        if name not in CITYSCAPES_CLASSES or weight <= 0:
            parser.error(f"--focus-class {item!r}: expected CLASS=WEIGHT with a class of "
                         f"{', '.join(CITYSCAPES_CLASSES)} and a positive weight")  # fmt: skip
        weights[CITYSCAPES_CLASSES.index(name)] = weight
    return weights


def class_weights(
    labels: np.ndarray, num_classes: int = NUM_CLASSES, cap: float = 4.0
) -> torch.Tensor:
    """Cross-entropy weights ``(f_c / median f)^-1/2``, clipped to [0.25, ``cap``].

    Rare, thin classes (poles, signs, riders) weigh more, which is what mIoU rewards; classes that
    never occur get weight 1.

    :param labels: uint8 trainIds of any shape (255 = ignore).
    :return: float32 [num_classes].
    """
    counts = np.bincount(labels.ravel(), minlength=256)[:num_classes].astype(np.float64)
    freq = counts / max(counts.sum(), 1.0)
    present = freq > 0
    weights = np.ones(num_classes)
    if present.any():
        weights[present] = (freq[present] / np.median(freq[present])) ** -0.5
    return torch.tensor(np.clip(weights, 0.25, cap), dtype=torch.float32)


def lr_factor(progress: float) -> float:
    """Learning-rate multiplier at a fraction ``progress`` in [0, 1] of the training.

    Linear warm-up over the first 5%, then cosine decay to 1% of the peak.
    """
    if progress < 0.05:
        return 0.05 + 0.95 * progress / 0.05
    t = min(1.0, (progress - 0.05) / 0.95)
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))


@dataclass(frozen=True)
class _Scenes:
    """The scenes held in memory: uint8 images [N, H, W, 3] and uint8 trainIds [N, H, W] (255 =
    ignore), for training and for validation."""

    images: np.ndarray
    labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


@dataclass
class _Run:
    """A training run in progress: what it trains, and where it stands.

    ``step`` and ``elapsed`` (training seconds) are cumulative over resumes; the learning-rate
    schedule counts from ``step0`` and ``elapsed0`` (the resume point with ``--restart-schedule``,
    else 0). ``loss`` is the exponentially smoothed training loss (NaN before the first step).
    """

    config: SegmenterConfig
    model: Segmenter
    optimizer: torch.optim.Optimizer
    weights: torch.Tensor  # float32 [NUM_CLASSES], on the training device
    sampler: CropSampler
    rng: np.random.Generator
    bf16: bool
    step: int = 0
    elapsed: float = 0.0
    loss: float = math.nan
    history: list[dict[str, float]] = field(default_factory=list)
    step0: int = 0
    elapsed0: float = 0.0


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _checkpoint(path: Path, run: _Run, args: argparse.Namespace) -> None:
    """Write ``run``'s resumable checkpoint to ``path``."""
    _save_checkpoint(path, {
        "config": run.config.to_dict(), "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "rng": run.rng.bit_generator.state, "step": run.step, "elapsed": run.elapsed,
        "loss": run.loss, "history": run.history, "args": vars(args),
    })  # fmt: skip


def _config(args: argparse.Namespace) -> SegmenterConfig:
    """The architecture the options describe."""
    return SegmenterConfig(
        widths=tuple(args.widths), decoder_width=args.decoder_width,
        context_dilations=tuple(args.context_dilations), full_width=args.full_width,
    )  # fmt: skip


def _read_resume(args: argparse.Namespace, config: SegmenterConfig) -> dict[str, Any] | None:
    """The ``--resume`` checkpoint (None without one), checked against ``config`` before any scene
    is generated: the same architecture, or one that :func:`widen` reaches with
    ``--restart-schedule`` (the optimiser starts afresh, so it needs the warm-up).

    :raises ValueError: ``config`` is no widening of the checkpoint's architecture, or widening
        without ``--restart-schedule``.
    """
    if args.resume is None:
        return None
    ckpt = torch.load(args.resume, map_location="cpu", weights_only=False)
    changes = widening_changes(SegmenterConfig.from_dict(ckpt["config"]), config)
    if changes and not args.restart_schedule:
        raise ValueError(f"{args.resume}: widening ({', '.join(changes)}) starts a fresh "
                         "optimiser; pass --restart-schedule for a fresh warm-up")  # fmt: skip
    return ckpt


def _restore(
    ckpt: dict[str, Any],
    model: Segmenter,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
) -> list[str]:
    """Load a training checkpoint (checked by :func:`_read_resume`) into ``model``, ``optimizer``
    and ``rng`` in place; a checkpoint of a narrower network is widened into ``model`` and leaves
    ``optimizer`` fresh (Adam's moments of the old tensors do not fit the wider ones).

    :return: What was widened (empty when the architecture is the same).
    """
    trained = SegmenterConfig.from_dict(ckpt["config"])
    changes = widening_changes(trained, model.config)
    if changes:
        narrow = Segmenter(trained)
        narrow.load_state_dict(ckpt["model"])
        model.load_state_dict(widen(narrow, model.config).state_dict())
    else:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
    rng.bit_generator.state = ckpt["rng"]
    return changes


def _load_scenes(args: argparse.Namespace, log: Callable[[str], None]) -> _Scenes:
    """Generate the ``--num-scenes`` training and ``--num-val`` validation scenes."""
    t0 = time.perf_counter()
    images, labels = build_cache(
        "train", args.num_scenes, args.height, args.width, args.seed, args.workers
    )
    val_images, val_labels = build_cache(
        "val", args.num_val, args.height, args.width, args.seed, args.workers
    )
    log(
        f"generated {len(images)} train + {len(val_images)} val scenes in {time.perf_counter() - t0:.0f} s"
    )
    return _Scenes(images, labels, val_images, val_labels)


def _start(
    args: argparse.Namespace,
    config: SegmenterConfig,
    ckpt: dict[str, Any] | None,
    labels: np.ndarray,
    device: torch.device,
    log: Callable[[str], None],
) -> _Run:
    """A new run on ``device`` (seeded by ``--seed``), or the one ``--resume`` names.

    :param config: The architecture of the options.
    :param ckpt: The ``--resume`` checkpoint from :func:`_read_resume`, or None.
    :param labels: uint8 trainIds [N, H, W] of the training scenes (class weights, crop sampling).
    """
    torch.manual_seed(args.seed)
    model = Segmenter(config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    weights = class_weights(labels, cap=args.weight_cap).to(device)
    sampler = CropSampler(
        labels, NUM_CLASSES, rare_prob=args.rare_crop_prob, class_weights=args.focus_weights
    )
    bf16 = use_bf16(args.autocast, device)
    log(f"class weights {[round(w, 2) for w in weights.tolist()]}; rare classes "
        f"{sampler.rare_classes.tolist()} (crop prob {args.rare_crop_prob}, draw weights {args.focus_weights}); bf16 autocast {bf16}")  # fmt: skip
    run = _Run(config, model, optimizer, weights, sampler, np.random.default_rng(args.seed), bf16)
    if ckpt is not None:
        changes = _restore(ckpt, model, optimizer, run.rng)
        run.step, run.elapsed = ckpt["step"], ckpt["elapsed"]
        run.loss, run.history = ckpt["loss"], ckpt["history"]
        widened = f"; widened {', '.join(changes)}, fresh optimiser state" if changes else ""
        log(f"resumed from {args.resume} at step {run.step}{widened}")
    if args.restart_schedule:  # steps and time stay cumulative
        run.step0, run.elapsed0 = run.step, run.elapsed
    return run


def _validate(run: _Run, scenes: _Scenes, device: torch.device) -> float:
    """mIoU of ``run``'s model on the validation scenes (the model is left in training mode)."""
    cm = evaluate_model(run.model.eval(), scenes.val_images, scenes.val_labels, device)
    run.model.train()
    return cm.miou()


def _train_step(
    model: Segmenter,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    bf16: bool = False,
) -> float:
    """One AdamW step on the class-weighted cross-entropy (the forward pass in bf16 autocast
    when ``bf16``); returns the loss."""
    with torch.autocast(images.device.type, torch.bfloat16, enabled=bf16):
        logits = model(images)
    loss = F.cross_entropy(logits.float(), labels, weight=weights, ignore_index=IGNORE_INDEX)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def _batch_step(
    args: argparse.Namespace,
    run: _Run,
    scenes: _Scenes,
    augment: AugmentConfig,
    device: torch.device,
    lr: float,
) -> float:
    """Draw and augment one batch of ``--batch`` scenes and take one step at learning rate ``lr``;
    returns the loss."""
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    idx, centres = zip(*(run.sampler.draw(run.rng) for _ in range(args.batch)), strict=True)
    images, labels = [scenes.images[i] for i in idx], [scenes.labels[i] for i in idx]
    x, y = augment_batch(images, labels, augment, run.rng, list(centres))
    return _train_step(run.model, run.optimizer, x.to(device), y.to(device), run.weights, run.bf16)


def _train_loop(
    args: argparse.Namespace,
    run: _Run,
    scenes: _Scenes,
    device: torch.device,
    log: Callable[[str], None],
) -> None:
    """Step until ``--steps`` steps or ``--max-minutes`` have passed since the schedule's start,
    checkpointing, logging and validating along the way."""
    checkpoint_path = args.checkpoint or args.out.with_suffix(".ckpt")
    augment = AugmentConfig(crop=tuple(args.crop) if args.crop else None)
    run.model.train()
    t_start = time.perf_counter() - run.elapsed
    limit = math.inf if args.max_minutes is None else 60 * args.max_minutes
    end_step, end_time = run.step0 + args.steps, run.elapsed0 + limit
    while run.step < end_step and run.elapsed < end_time:
        # With a time budget the schedule follows whichever runs out first, steps or time, so
        # that the learning rate has annealed when the budget ends (not reproducible bit for bit).
        progress = max((run.step - run.step0) / args.steps, (run.elapsed - run.elapsed0) / limit)
        value = _batch_step(args, run, scenes, augment, device, args.lr * lr_factor(progress))
        run.step += 1
        run.elapsed = time.perf_counter() - t_start
        run.loss = value if math.isnan(run.loss) else 0.95 * run.loss + 0.05 * value
        if run.step % args.checkpoint_every == 0 or run.step == end_step or run.elapsed >= end_time:
            _checkpoint(checkpoint_path, run, args)
        if run.step % args.log_every == 0 or run.step == end_step:
            lr = run.optimizer.param_groups[0]["lr"]
            log(f"step {run.step}/{end_step}  loss {run.loss:.4f}  lr {lr:.2e}  "
                f"{run.step * args.batch / run.elapsed:.1f} img/s  {run.elapsed / 60:.1f} min")  # fmt: skip
        if run.step % args.eval_every == 0 and run.step < end_step:
            miou = _validate(run, scenes, device)
            run.history.append({"step": run.step, "loss": run.loss, "val_miou": miou})
            log(f"step {run.step}: val mIoU {miou:.4f}")


def _summary(args: argparse.Namespace, run: _Run, val_miou: float, command: str) -> dict[str, Any]:
    """The record stored with the weights: what ran, for how long, and how well it validated."""
    return {
        "command": command,
        "steps": run.step, "planned_steps": args.steps, "batch": args.batch,
        "train_seconds": round(run.elapsed, 1),
        "final_loss": round(run.loss, 4), "val_miou": round(val_miou, 4),
        "num_scenes": args.num_scenes, "num_val": args.num_val, "size": [args.height, args.width],
        "crop": list(args.crop) if args.crop else None, "history": run.history,
    }  # fmt: skip


def train(
    args: argparse.Namespace,
    log: Callable[[str], None] = print,
    command: str = "",
) -> dict[str, Any]:
    """Run the training described by ``args`` (see :func:`parse_args`).

    :param args: Options from :func:`parse_args`.
    :param log: Where progress lines go.
    :param command: The command line, recorded with the weights.
    :return: The summary record stored in the weights file (steps, time, loss, val mIoU, history).
    """
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config = _config(args)
    ckpt = _read_resume(args, config)
    scenes = _load_scenes(args, log)
    run = _start(args, config, ckpt, scenes.labels, device, log)
    _train_loop(args, run, scenes, device, log)
    val_miou = _validate(run, scenes, device)
    run.history.append({"step": run.step, "loss": run.loss, "val_miou": val_miou})
    summary = _summary(args, run, val_miou, command)
    save_weights(args.out, run.model.cpu(), summary)
    log(f"done: {run.step} steps in {run.elapsed / 60:.1f} min, loss {run.loss:.4f}, "
        f"val mIoU {val_miou:.4f} on {args.num_val} scenes -> {args.out}")  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulator.metrics.segmentation.training.train``."""
    argv = sys.argv[1:] if argv is None else argv
    keep_freed_memory()
    train(
        parse_args(argv),
        command="python -m simulator.metrics.segmentation.training.train " + shlex.join(argv),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
