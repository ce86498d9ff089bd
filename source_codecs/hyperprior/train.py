"""Train one rate point of the scale hyperprior; resumable.

``python -m source_codecs.hyperprior.train --data DIR --rate q3 --out runs/hp_q3`` trains on random
crops of ``DIR/*.png`` (the ``labels/`` maps that :class:`PairFolder` also reads are ignored) with
CompressAI's rate-distortion loss lambda * 255^2 * MSE + bpp (lambda from the rate point, or
``--lmbda``), Adam, and a second Adam on the entropy bottleneck's quantiles (the auxiliary loss).
``--init PATH`` starts from another run's ``checkpoint.pt`` or weights file (fine-tuning a rate point
from another). ``--step-min A --step-max B`` trains one model over quantisation steps of y drawn
log-uniformly from [A, B] (a variable-rate model, e.g. the enhancement layer's residual coder,
``hyperprior_residual``); the default 1, 1 is the classic model. Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds everything needed to
continue (``--resume``); ``--max-minutes`` stops cleanly on time. At the end the quantiles are solved
for exactly (:meth:`EntropyBottleneck.update_quantiles`) and ``OUT/weights.pt`` is written, the fp16 file the
codec loads (copy it to ``source_codecs/hyperprior/weights/hyperprior_<rate>.pt``).
``OUT/options.json`` records the options and ``OUT/train.log`` the losses.
"""

from __future__ import annotations

__all__ = ["TrainOptions", "main", "rate_distortion_loss", "train"]

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import torch

from source_codecs import training
from source_codecs.hyperprior.model import HyperpriorConfig, ScaleHyperprior
from source_codecs.hyperprior.zoo import RATES, ZOO
from source_codecs.semantic_gan.dataset import PairFolder
from source_codecs.zoo import find


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
    step_min: float = 1.0
    step_max: float = 1.0
    checkpoint_every: int = 100
    log_every: int = 10
    max_minutes: float = 0.0
    workers: int = 0
    threads: int = 1
    seed: int = 0

    @property
    def lmbda_value(self) -> float:
        """The lambda in use: ``lmbda`` if set, else the rate point's."""
        return self.lmbda if self.lmbda > 0 else find(ZOO, self.rate).lmbda


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
        """One update of the transforms and entropy models, one of the quantiles; the losses.

        The quantisation step of y is drawn log-uniformly from [step_min, step_max] for each batch
        (1 and 1: the classic model), so that one model learns a range of rates."""
        low, high = math.log(self.opts.step_min), math.log(self.opts.step_max)
        step = math.exp(low + (high - low) * torch.rand(()).item())
        x_hat, likelihoods = self.model(x, step)
        losses = rate_distortion_loss(x, x_hat, likelihoods, self.opts.lmbda_value)
        self.opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        if torch.isfinite(norm):  # a non-finite gradient (a rare batch) is skipped, not applied
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
            "rng": training.rng_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.step = state["step"]
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.opt_aux.load_state_dict(state["opt_aux"])
        training.set_rng_state(state["rng"])

    def initialise(self, path: str) -> None:
        """Start from the model of another run (its ``checkpoint.pt`` or a weights file)."""
        saved = torch.load(path, map_location="cpu", weights_only=False)
        if "step" in saved:  # a checkpoint, perhaps over several files
            saved = training.load_checkpoint(Path(path))
        state = saved["model"] if "model" in saved else saved["state_dict"]
        self.model.load_state_dict({k: v.float() for k, v in state.items()})


def train(opts: TrainOptions, *, resume: bool | str | Path = False) -> Path:
    """Run (or continue) training; return the path of the fp16 weights file it wrote."""
    out = training.start_run(opts)
    trainer = _Trainer(opts)
    if not training.resume_or_start(trainer, out, resume) and opts.init:
        trainer.initialise(opts.init)
    loader = training.make_loader(
        PairFolder(opts.data, (opts.crop, opts.crop)), opts.batch_size, opts.workers
    )

    def fit_quantiles(log: TextIO) -> dict[str, Any]:
        trainer.model.entropy_bottleneck.update_quantiles()
        log.write(f"# quantiles fitted: aux={trainer.model.aux_loss().item():.4f}\n")
        return {"lmbda": opts.lmbda_value, "last_log": training.last_step_line(out / training.LOG)}

    return training.run_training(
        trainer, training.unit_images(loader), opts, out, before_export=fit_quantiles
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    prog = "python -m source_codecs.hyperprior.train"
    return training.cli_main(argv, TrainOptions, train, prog, __doc__, {"rate": RATES})


if __name__ == "__main__":
    sys.exit(main())
