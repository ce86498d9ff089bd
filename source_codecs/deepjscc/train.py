"""Train the deep JSCC model; resumable.

``python -m source_codecs.deepjscc.train --data DIR --out runs/djscc`` trains on random crops of
``DIR/*.png`` (the ``labels/`` maps that :class:`~source_codecs.semantic_gan.dataset.PairFolder`
expects are read and ignored). Every step draws, per image, an SNR uniform in
[``--snr-min``, ``--snr-max``] dB and a channel (AWGN, or with probability ``--fading-prob`` Rayleigh
fast fading with perfect CSI and zero forcing, see :class:`TrainingChannel`), and per batch one
bandwidth ratio of :data:`RHOS`, so that one model learns every K. ``--loss mse`` (the default)
is the batch's MSE on [0, 1] pixels; ``--loss psnr`` is minus the mean of the images' PSNRs, the
quantity the benchmarks report: the gradient of ``10 log10(mse_i)`` is that of ``mse_i`` divided by
``mse_i``, so the images at high SNR, whose errors are small, weigh as much as those at low SNR
instead of about half as much (see :func:`reconstruction_loss`). Adam with a cosine learning-rate
decay over ``--steps``. ``--blocks N`` adds N residual blocks at 1/8 resolution to each network;
``--autocast auto`` (the default) runs both networks under bf16 autocast on a CPU with native bf16
(:func:`source_codecs.training.use_bf16`), and the symbols, the channel and the loss in float32.

Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds everything needed to continue
(``--resume``); ``--max-minutes`` stops cleanly with a checkpoint. At the end ``OUT/weights.pt`` is
the fp16 weights file the codec loads (copy it to ``source_codecs/deepjscc/weights/deepjscc.pt``).
``OUT/options.json`` records the options and ``OUT/train.log`` the losses.

The shipped weights: see ``source_codecs/deepjscc/README.md`` for the command and its log.
"""

from __future__ import annotations

__all__ = ["LOSSES", "RHOS", "TrainOptions", "main", "reconstruction_loss", "train"]

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sionna.phy
import torch

from source_codecs import training
from source_codecs.deepjscc.model import DeepJSCC, DeepJSCCConfig
from source_codecs.deepjscc.training_channel import TrainingChannel
from source_codecs.semantic_gan.dataset import PairFolder

RHOS: tuple[float, ...] = (1 / 96, 1 / 48, 1 / 24)
"""Bandwidth ratios drawn in training (K = floor(rho * 3 * h * w) of the crop)."""
LOSSES: tuple[str, ...] = ("mse", "psnr")
"""The choices of ``--loss``."""


def reconstruction_loss(decoded: torch.Tensor, image: torch.Tensor, loss: str) -> torch.Tensor:
    """The training loss of a batch.

    :param decoded: [B, 3, h, w], float32 in [0, 1].
    :param image: [B, 3, h, w], float32 in [0, 1].
    :param loss: ``mse``: the batch's mean squared error; ``psnr``: minus the mean over the images
        of ``10 log10(1 / mse_i)``, in dB (each image's MSE floored at 1e-10).
    :return: a scalar.
    """
    if loss == "mse":
        return torch.nn.functional.mse_loss(decoded, image)
    per_image = (decoded - image).square().flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(per_image).mean()


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
    blocks: int = 0
    snr_min: float = -5.0
    snr_max: float = 20.0
    fading_prob: float = 0.5
    loss: str = "mse"
    checkpoint_every: int = 200
    log_every: int = 20
    max_minutes: float = 0.0
    workers: int = 0
    threads: int = 1
    seed: int = 0
    autocast: str = "auto"


class _Trainer:
    """Model, optimiser, channel and step counter of one run."""

    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        config = DeepJSCCConfig(opts.latent_channels, opts.width, opts.blocks)
        self.model = DeepJSCC(config).train()
        self.channel = TrainingChannel(opts.fading_prob)
        self.opt = torch.optim.Adam(self.model.parameters(), opts.lr)
        self.bf16 = training.use_bf16(opts.autocast, torch.device("cpu"))
        self.step = 0

    def learning_rate(self) -> float:
        """Cosine decay from ``lr`` to ``lr_final`` over ``steps``."""
        o = self.opts
        return training.cosine_decay(self.step, o.steps, o.lr, o.lr_final)

    def train_step(self, image: torch.Tensor) -> dict[str, float]:
        """One update on a batch [B, 3, h, w] in [0, 1]; returns the losses."""
        o = self.opts
        b, _, h, w = image.shape
        snr_db = o.snr_min + (o.snr_max - o.snr_min) * torch.rand(b)
        rho = RHOS[int(torch.randint(len(RHOS), ()))]
        num_symbols = math.floor(rho * 3 * h * w)
        with torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
            x = self.model.encode(image, num_symbols, snr_db)
            y, noise_var = self.channel(x, snr_db)
            decoded = self.model.decode(y, noise_var, snr_db, h, w)
        loss = reconstruction_loss(decoded, image, o.loss)
        mse = (
            loss.item()
            if o.loss == "mse"
            else torch.nn.functional.mse_loss(decoded.detach(), image).item()
        )
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        return {"mse": mse, "psnr": -10 * math.log10(max(mse, 1e-10)), "rho": rho}

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


def _seed_sionna(seed: int) -> None:
    """Seed Sionna's generators and torch's global one."""
    sionna.phy.config.seed = seed


def train(opts: TrainOptions, *, resume: bool | str | Path = False) -> Path:
    """Run (or continue) training; return the path of the fp16 weights file it wrote."""
    out = training.start_run(opts, seed=_seed_sionna)
    trainer = _Trainer(opts)
    training.resume_or_start(trainer, out, resume)
    loader = training.make_loader(
        PairFolder(opts.data, (opts.crop, opts.crop)), opts.batch_size, opts.workers
    )

    def learning_rate() -> str:
        return f"lr={trainer.learning_rate():.2e}"

    return training.run_training(
        trainer, training.unit_images(loader), opts, out, log_suffix=learning_rate
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    return training.cli_main(
        argv,
        TrainOptions,
        train,
        "python -m source_codecs.deepjscc.train",
        __doc__,
        {"autocast": training.AUTOCAST_CHOICES, "loss": LOSSES},
    )


if __name__ == "__main__":
    sys.exit(main())
