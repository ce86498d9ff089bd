"""Train one rate point of the scale hyperprior; resumable.

``python -m source_codecs.hyperprior.train --data DIR --rate q3 --out runs/hp_q3`` trains on random
crops of ``DIR/*.png`` (the ``labels/`` maps that :class:`PairFolder` also reads are ignored) with
CompressAI's rate-distortion loss lambda * 255^2 * MSE + bpp (lambda from the rate point, or
``--lmbda``), Adam, and a second Adam on the entropy bottleneck's quantiles (the auxiliary loss).
``--init PATH`` starts from another run's ``checkpoint.pt`` or weights file (fine-tuning a rate point
from another). Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds everything needed to
continue (``--resume``); ``--max-minutes`` stops cleanly on time. At the end the quantiles are solved
for exactly (:meth:`EntropyBottleneck.update_quantiles`) and ``OUT/weights.pt`` is written, the fp16 file the
codec loads (copy it to ``source_codecs/hyperprior/weights/hyperprior_<rate>.pt``).
``OUT/options.json`` records the options and ``OUT/train.log`` the losses.
"""

from __future__ import annotations

__all__ = ["TrainOptions", "main", "rate_distortion_loss", "train"]

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from source_codecs.hyperprior.model import RATE_POINTS, HyperpriorConfig, ScaleHyperprior
from source_codecs.semantic_gan.dataset import PairFolder


@dataclass
class TrainOptions:
    """Every option of a training run (saved to ``OUT/options.json``)."""

    data: str
    out: str
    rate: str = "q3"
    lmbda: float = 0.0
    steps: int = 100000
    batch_size: int = 8
    crop: int = 128
    lr: float = 1e-4
    aux_lr: float = 1e-3
    n: int = 64
    m: int = 96
    init: str = ""
    checkpoint_every: int = 100
    log_every: int = 10
    max_minutes: float = 0.0
    workers: int = 0
    threads: int = 1
    seed: int = 0

    @property
    def lmbda_value(self) -> float:
        """The lambda in use: ``lmbda`` if set, else the rate point's."""
        return self.lmbda if self.lmbda > 0 else RATE_POINTS[self.rate]


def rate_distortion_loss(
    x: torch.Tensor, x_hat: torch.Tensor, likelihoods: dict[str, torch.Tensor], lmbda: float
) -> dict[str, torch.Tensor]:
    """CompressAI's ``RateDistortionLoss``.

    :param x: [B, 3, H, W] in [0, 1].
    :param x_hat: [B, 3, H, W] reconstruction.
    :param likelihoods: the model's likelihoods of y and z.
    :param lmbda: weight of the distortion.
    :return: scalars ``loss`` = lmbda * 255^2 * ``mse`` + ``bpp`` (bits per pixel of y and z).
    """
    pixels = x.shape[0] * x.shape[2] * x.shape[3]
    bpp = sum(torch.log(p).sum() for p in likelihoods.values()) / (-math.log(2) * pixels)
    mse = torch.mean((x_hat - x) ** 2)
    return {"loss": lmbda * 255**2 * mse + bpp, "mse": mse, "bpp": bpp}


def _psnr(mse: float) -> float:
    return 10 * math.log10(1 / max(mse, 1e-12))


class _Trainer:
    """Model, optimisers and the step counter of one run."""

    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        self.model = ScaleHyperprior(HyperpriorConfig(n=opts.n, m=opts.m)).train()
        quantiles = {"entropy_bottleneck.quantiles"}
        named = dict(self.model.named_parameters())
        self.opt = torch.optim.Adam([p for k, p in named.items() if k not in quantiles], opts.lr)
        self.opt_aux = torch.optim.Adam([named[k] for k in quantiles], opts.aux_lr)
        self.step = 0

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        """One update of the transforms and entropy models, one of the quantiles; the losses."""
        x_hat, likelihoods = self.model(x)
        losses = rate_distortion_loss(x, x_hat, likelihoods, self.opts.lmbda_value)
        self.opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        aux = self.aux_step(self.opt_aux)
        self.step += 1
        logs = {k: v.item() for k, v in losses.items()}
        return {**logs, "psnr": _psnr(logs["mse"]), "aux": aux}

    def aux_step(self, optimizer: torch.optim.Optimizer) -> float:
        """One update of the quantiles under ``optimizer``; the auxiliary loss before it."""
        aux = self.model.aux_loss()
        optimizer.zero_grad(set_to_none=True)
        aux.backward()
        optimizer.step()
        return aux.item()

    def state(self) -> dict[str, Any]:
        """Everything :meth:`restore` needs to continue the run."""
        return {
            "step": self.step,
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "opt_aux": self.opt_aux.state_dict(),
            "options": asdict(self.opts),
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(),
                "python": random.getstate(),
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.step = state["step"]
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.opt_aux.load_state_dict(state["opt_aux"])
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])

    def initialise(self, path: str) -> None:
        """Start from the model of another run (its ``checkpoint.pt`` or a weights file)."""
        saved = torch.load(path, map_location="cpu", weights_only=False)
        state = saved["model"] if "model" in saved else saved["state_dict"]
        self.model.load_state_dict({k: v.float() for k, v in state.items()})


def _batches(loader: DataLoader) -> Iterator[torch.Tensor]:
    """Endless iteration over the images of ``loader``, mapped to [0, 1]."""
    while True:
        for image, _labels in loader:
            yield (image + 1) / 2


def _save_atomic(obj: Any, path: Path) -> None:
    """torch.save to a temporary name, then rename: a crash never leaves half a checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def _last_step_line(path: Path) -> str:
    """The last ``step ...`` line of a training log ("" if none)."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("step ")]
    return lines[-1] if lines else ""


def train(opts: TrainOptions, *, resume: bool = False) -> Path:
    """Run (or continue) training; return the path of the fp16 weights file it wrote."""
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    random.seed(opts.seed)
    np.random.seed(opts.seed)
    torch.manual_seed(opts.seed)
    trainer = _Trainer(opts)
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.is_file():
        trainer.restore(torch.load(checkpoint, map_location="cpu", weights_only=False))
    elif opts.init:
        trainer.initialise(opts.init)
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
        for x in _batches(loader):
            if trainer.step >= opts.steps:
                break
            if opts.max_minutes > 0 and time.monotonic() - started > 60 * opts.max_minutes:
                log.write(f"# stopped by --max-minutes at step {trainer.step}\n")
                break
            tick = time.monotonic()
            logs = trainer.train_step(x)
            if trainer.step % opts.log_every == 0 or trainer.step == 1:
                text = " ".join(f"{k}={v:.4f}" for k, v in logs.items())
                log.write(f"step {trainer.step} {text} s/step={time.monotonic() - tick:.2f}\n")
                log.flush()
            if trainer.step % opts.checkpoint_every == 0:
                _save_atomic(trainer.state(), checkpoint)
        _save_atomic(trainer.state(), checkpoint)
        trainer.model.entropy_bottleneck.update_quantiles()
        log.write(f"# quantiles fitted: aux={trainer.model.aux_loss().item():.4f}\n")
        weights = out / "weights.pt"
        info = {
            "steps": trainer.step,
            "lmbda": opts.lmbda_value,
            "last_log": _last_step_line(out / "train.log"),
            "options": asdict(opts),
        }
        trainer.model.export(weights, info)
        log.write(f"# wrote {weights} at step {trainer.step}\n")
    return weights


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m source_codecs.hyperprior.train", description=__doc__
    )
    for f in fields(TrainOptions):
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("data", "out"):
            parser.add_argument(flag, required=True)
        elif f.name == "rate":
            parser.add_argument(flag, default=f.default, choices=sorted(RATE_POINTS))
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
