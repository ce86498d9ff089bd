"""Train one rate point of the scale hyperprior; resumable.

``python -m source_codecs.hyperprior.train --data DIR --rate q3 --out runs/hp_q3`` trains on random
crops of ``DIR/*.png`` (the ``labels/`` maps that :class:`PairFolder` also reads are ignored) with
CompressAI's rate-distortion loss lambda * 255^2 * MSE + bpp (lambda from the rate point, or
``--lmbda``), Adam, and a second Adam on the entropy bottleneck's quantiles (the auxiliary loss).
``--init PATH`` starts from another run's ``checkpoint.pt`` or weights file (fine-tuning a rate point
from another). ``--step-min A --step-max B`` trains one model over quantisation steps of y drawn
log-uniformly from [A, B] (a variable-rate model, e.g. the enhancement layer's residual coder,
``hyperprior_residual``); the default 1, 1 is the classic model.

``--levels L`` (L >= 2) trains the variable-rate model instead (``rate: variable`` of the codec):
gain units on y and z (:mod:`.gain`) with L levels whose lambdas run geometrically from
``--lmbda-min`` to ``--lmbda-max`` (``--rate`` and ``--lmbda`` are then unused). Each image of a
batch draws a real level t uniformly in [0, L - 1] and is weighed by its lambda
lmbda_min * (lmbda_max / lmbda_min)^(t / (L - 1)), the gains interpolated as the codec does between
levels, so that every rate the codec can pick is trained; y's gains start at sqrt(lambda / lmbda_max)
(high-rate theory's quantisation step ~ lambda^(-1/2)), z's at 1. ``--n`` and ``--m`` set the
capacity (CompressAI: 128 and 192 up to its quality 5, 192 and 320 above).

``--autocast auto`` (the default) runs the transforms under bf16 autocast on a CPU with native bf16
(:func:`source_codecs.training.use_bf16`), fp32 elsewhere; the entropy models, and so the
likelihoods and the rate term, stay float32 (``bf16`` and ``off`` force either).
``--schedule cosine`` decays the learning rate from ``--lr`` to ``--lr-final`` over ``--steps``
(default ``constant``).

Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds everything needed to continue
(``--resume``, or ``--resume PATH`` from a committed slim checkpoint); ``--max-minutes`` stops
cleanly on time; ``--slim-checkpoint PATH`` also writes the copy to commit. At the end the quantiles
are solved for exactly (:meth:`EntropyBottleneck.update_quantiles`) and ``OUT/weights.pt`` is
written, the fp16 file the codec loads (copy it to
``source_codecs/hyperprior/weights/hyperprior_<rate>.pt``, the variable-rate model's to
``hyperprior_variable.pt``). ``OUT/options.json`` records the options and ``OUT/train.log`` the
losses.
"""

from __future__ import annotations

__all__ = ["SCHEDULES", "TrainOptions", "main", "rate_distortion_loss", "train"]

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

SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules of ``--schedule``."""


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
    schedule: str = "constant"
    lr_final: float = 1e-5
    aux_lr: float = 1e-3
    n: int = 64
    m: int = 96
    levels: int = 0
    lmbda_min: float = 0.00015
    lmbda_max: float = 0.0932
    init: str = ""
    step_min: float = 1.0
    step_max: float = 1.0
    checkpoint_every: int = 100
    log_every: int = 10
    max_minutes: float = 0.0
    workers: int = 0
    threads: int = 1
    seed: int = 0
    autocast: str = "auto"

    @property
    def lmbda_value(self) -> float:
        """The lambda of a model of one lambda: ``lmbda`` if set, else the rate point's."""
        return self.lmbda if self.lmbda > 0 else find(ZOO, self.rate).lmbda

    def level_lmbdas(self, level: torch.Tensor) -> torch.Tensor:
        """The variable-rate model's lambda at real levels ``level`` [B] in [0, levels - 1]:
        geometric from ``lmbda_min`` (level 0) to ``lmbda_max`` (level L - 1), float32 [B]."""
        ratio = self.lmbda_max / self.lmbda_min
        return self.lmbda_min * ratio ** (level / (self.levels - 1))


def rate_distortion_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    likelihoods: dict[str, torch.Tensor],
    lmbda: float | torch.Tensor,
) -> dict[str, torch.Tensor]:
    """CompressAI's ``RateDistortionLoss``, with a lambda per image if need be.

    :param x: [B, 3, H, W] in [0, 1].
    :param x_hat: [B, 3, H, W] reconstruction, float32.
    :param likelihoods: the model's likelihoods of y and z, float32 [B, ...].
    :param lmbda: weight of the distortion: one, or float32 [B], one per image.
    :return: scalars: ``loss``, the batch mean of lmbda * 255^2 * MSE + bpp of each image (for
        one lambda: lmbda * 255^2 * ``mse`` + ``bpp``); ``mse`` and ``bpp`` (bits per pixel of y
        and z), batch means.
    """
    b, _, h, w = x.shape
    bits = sum(torch.log(p).reshape(b, -1).sum(1) for p in likelihoods.values())
    bpp = bits / (-math.log(2) * h * w)
    mse = torch.mean((x_hat - x) ** 2, dim=(1, 2, 3))
    loss = torch.mean(lmbda * 255**2 * mse + bpp)
    return {"loss": loss, "mse": mse.mean(), "bpp": bpp.mean()}


def _psnr(mse: float) -> float:
    return 10 * math.log10(1 / max(mse, 1e-12))


class _Trainer:
    """Model, optimisers and the step counter of one run."""

    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        config = HyperpriorConfig(n=opts.n, m=opts.m, levels=opts.levels)
        self.model = ScaleHyperprior(config).train()
        if opts.levels:  # y's quantisation step ~ lambda^(-1/2), 1 at the top level
            lmbdas = opts.level_lmbdas(torch.arange(opts.levels, dtype=torch.float32))
            self.model.gain_y.initialise(0.5 * torch.log(lmbdas / opts.lmbda_max))
        quantiles = {"entropy_bottleneck.quantiles"}
        named = dict(self.model.named_parameters())
        self.opt = torch.optim.Adam([p for k, p in named.items() if k not in quantiles], opts.lr)
        self.opt_aux = torch.optim.Adam([named[k] for k in quantiles], opts.aux_lr)
        self.bf16 = training.use_bf16(opts.autocast, torch.device("cpu"))
        self.step = 0

    def learning_rate(self) -> float:
        """The learning rate of the next step under ``--schedule``."""
        o = self.opts
        if o.schedule == "constant":
            return o.lr
        return training.cosine_decay(self.step, o.steps, o.lr, o.lr_final)

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        """One update of the transforms and entropy models, one of the quantiles; the losses.

        The quantisation step of y is drawn log-uniformly from [step_min, step_max] for each batch
        (1 and 1: the classic model), so that one model learns a range of rates; a variable-rate
        model draws a level per image (see the module docstring)."""
        low, high = math.log(self.opts.step_min), math.log(self.opts.step_max)
        step = math.exp(low + (high - low) * torch.rand(()).item())
        level: torch.Tensor | None = None
        lmbda: float | torch.Tensor = self.opts.lmbda_value
        if self.opts.levels:
            level = torch.rand(x.shape[0]) * (self.opts.levels - 1)
            lmbda = self.opts.level_lmbdas(level)
        with torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
            x_hat, likelihoods = self.model(x, step, level)
        losses = rate_distortion_loss(x, x_hat, likelihoods, lmbda)
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate()
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
        """Start from the model of another run (its ``checkpoint.pt`` or a weights file); a
        variable-rate model may start from a model of one lambda of the same N and M (its gains
        keep their initial values)."""
        saved = torch.load(path, map_location="cpu", weights_only=False)
        if "step" in saved:  # a checkpoint, perhaps over several files
            saved = training.load_checkpoint(Path(path))
        state = saved["model"] if "model" in saved else saved["state_dict"]
        state = {k: v.float() for k, v in state.items()}
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("gain_") for k in missing):
            raise ValueError(f"--init {path}: not this architecture ({missing + unexpected})")


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
        lmbda: float | list[float] = opts.lmbda_value
        if opts.levels:
            lmbda = opts.level_lmbdas(torch.arange(opts.levels, dtype=torch.float64)).tolist()
        return {"lmbda": lmbda, "last_log": training.last_step_line(out / training.LOG)}

    def learning_rate() -> str:
        return f"lr={trainer.learning_rate():.2e}"

    return training.run_training(
        trainer,
        training.unit_images(loader),
        opts,
        out,
        log_suffix=learning_rate,
        before_export=fit_quantiles,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    prog = "python -m source_codecs.hyperprior.train"
    choices = {"rate": RATES, "autocast": training.AUTOCAST_CHOICES, "schedule": SCHEDULES}
    return training.cli_main(argv, TrainOptions, train, prog, __doc__, choices)


if __name__ == "__main__":
    sys.exit(main())
