"""Train the deep JSCC model; resumable.

``python -m source_codecs.deepjscc.train --data DIR --out runs/djscc`` trains on random crops of
``DIR/*.png`` (the ``labels/`` maps that :class:`~source_codecs.semantic_gan.dataset.PairFolder`
expects are read and ignored). Every step draws, per image, an SNR uniform in
[``--snr-min``, ``--snr-max``] dB and a channel (AWGN, or with probability ``--fading-prob`` Rayleigh
fast fading with perfect CSI and zero forcing, see :class:`TrainingChannel`), and per batch one
bandwidth ratio of :data:`RHOS`, so that one model learns every K; the loss is the MSE on [0, 1]
pixels. Adam with a cosine learning-rate decay over ``--steps``.

Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds everything needed to continue
(``--resume``); ``--max-minutes`` stops cleanly with a checkpoint. At the end ``OUT/weights.pt`` is
the fp16 weights file the codec loads (copy it to ``source_codecs/deepjscc/weights/deepjscc.pt``).
``OUT/options.json`` records the options and ``OUT/train.log`` the losses.

The shipped weights: see ``source_codecs/deepjscc/README.md`` for the command and its log.
"""

from __future__ import annotations

__all__ = ["RHOS", "TrainOptions", "main", "train"]

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import sionna.phy
import torch
from torch.utils.data import DataLoader

from source_codecs.deepjscc.model import DeepJSCC, DeepJSCCConfig
from source_codecs.deepjscc.training_channel import TrainingChannel
from source_codecs.semantic_gan.dataset import PairFolder

RHOS: tuple[float, ...] = (1 / 96, 1 / 48, 1 / 24)
"""Bandwidth ratios drawn in training (K = floor(rho * 3 * h * w) of the crop)."""


@dataclass
class TrainOptions:
    """Every option of a training run (saved to ``OUT/options.json``)."""

    data: str
    out: str
    steps: int = 4200
    batch_size: int = 8
    crop: int = 128
    lr: float = 1e-3
    lr_final: float = 5e-5
    latent_channels: int = 8
    width: int = 64
    snr_min: float = -5.0
    snr_max: float = 20.0
    fading_prob: float = 0.5
    checkpoint_every: int = 200
    log_every: int = 20
    max_minutes: float = 0.0
    workers: int = 0
    threads: int = 1
    seed: int = 0


class _Trainer:
    """Model, optimiser, channel and step counter of one run."""

    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        config = DeepJSCCConfig(latent_channels=opts.latent_channels, width=opts.width)
        self.model = DeepJSCC(config).train()
        self.channel = TrainingChannel(opts.fading_prob)
        self.opt = torch.optim.Adam(self.model.parameters(), opts.lr)
        self.step = 0

    def learning_rate(self) -> float:
        """Cosine decay from ``lr`` to ``lr_final`` over ``steps``."""
        o = self.opts
        t = min(self.step / max(o.steps, 1), 1.0)
        return o.lr_final + 0.5 * (o.lr - o.lr_final) * (1 + math.cos(math.pi * t))

    def train_step(self, image: torch.Tensor) -> dict[str, float]:
        """One update on a batch [B, 3, h, w] in [0, 1]; returns the losses."""
        o = self.opts
        b, _, h, w = image.shape
        snr_db = o.snr_min + (o.snr_max - o.snr_min) * torch.rand(b)
        rho = RHOS[int(torch.randint(len(RHOS), ()))]
        num_symbols = math.floor(rho * 3 * h * w)
        x = self.model.encode(image, num_symbols, snr_db)
        y, noise_var = self.channel(x, snr_db)
        loss = torch.nn.functional.mse_loss(self.model.decode(y, noise_var, snr_db, h, w), image)
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        return {"mse": loss.item(), "psnr": -10 * math.log10(max(loss.item(), 1e-10)), "rho": rho}

    def state(self) -> dict[str, Any]:
        """Everything :meth:`restore` needs to continue the run."""
        return {
            "step": self.step,
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "options": asdict(self.opts),
            "rng": {
                "torch": torch.get_rng_state(),
                "sionna": self.channel.awgn.torch_rng.get_state(),
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.step = state["step"]
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        torch.set_rng_state(state["rng"]["torch"])
        self.channel.awgn.torch_rng.set_state(state["rng"]["sionna"])


def _batches(loader: DataLoader) -> Iterator[torch.Tensor]:
    """Endless iteration over the images of ``loader``, rescaled to [0, 1]."""
    while True:
        for image, _ in loader:
            yield (image + 1) / 2


def _save_atomic(obj: Any, path: Path) -> None:
    """torch.save to a temporary name, then rename: a crash never leaves half a checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def train(opts: TrainOptions, *, resume: bool = False) -> Path:
    """Run (or continue) training; return the path of the fp16 weights file it wrote."""
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    sionna.phy.config.seed = opts.seed  # seeds Sionna's generators and torch's global one
    trainer = _Trainer(opts)
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.is_file():
        trainer.restore(torch.load(checkpoint, map_location="cpu", weights_only=False))
    (out / "options.json").write_text(json.dumps(asdict(opts), indent=2))
    data = PairFolder(opts.data, (opts.crop, opts.crop))
    loader = DataLoader(
        data,
        batch_size=opts.batch_size,
        shuffle=True,
        num_workers=opts.workers,
        drop_last=len(data) >= opts.batch_size,
        persistent_workers=opts.workers > 0,
    )
    started = time.monotonic()
    with open(out / "train.log", "a") as log:
        log.write(f"# start at step {trainer.step}: {json.dumps(asdict(opts))}\n")
        for image in _batches(loader):
            if trainer.step >= opts.steps:
                break
            if opts.max_minutes > 0 and time.monotonic() - started > 60 * opts.max_minutes:
                log.write(f"# stopped by --max-minutes at step {trainer.step}\n")
                break
            tick = time.monotonic()
            logs = trainer.train_step(image)
            if trainer.step % opts.log_every == 0 or trainer.step == 1:
                text = " ".join(f"{k}={v:.4f}" for k, v in logs.items())
                lr = trainer.learning_rate()
                log.write(
                    f"step {trainer.step} {text} lr={lr:.2e} s/step={time.monotonic() - tick:.2f}\n"
                )
                log.flush()
            if trainer.step % opts.checkpoint_every == 0:
                _save_atomic(trainer.state(), checkpoint)
        _save_atomic(trainer.state(), checkpoint)
        weights = out / "weights.pt"
        trainer.model.export(weights, {"steps": trainer.step, "options": asdict(opts)})
        log.write(f"# wrote {weights} at step {trainer.step}\n")
    return weights


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m source_codecs.deepjscc.train", description=__doc__
    )
    for f in fields(TrainOptions):
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("data", "out"):
            parser.add_argument(flag, required=True)
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default)
    parser.add_argument("--resume", action="store_true", help="continue OUT/checkpoint.pt")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = vars(_parser().parse_args(argv))
    resume = args.pop("resume")
    opts = TrainOptions(**args)
    print(json.dumps(asdict(opts), indent=2))
    print(f"wrote {train(opts, resume=resume)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
