"""Train one rate point of the semantic GAN codec; resumable.

``python -m source_codecs.semantic_gan.train --data DIR --rate low --out runs/sg_low`` trains on
``DIR/*.png`` + ``DIR/labels/*.png`` (see ``python -m simulator.data.export``) with the SPADE
recipe: hinge GAN loss on a conditional multi-scale patch discriminator, discriminator feature
matching, the ST-LPIPS perceptual loss and an L1 term; Adam(0, 0.9). With ``--lambda-seg`` > 0 a
segmentation critic (:mod:`~source_codecs.semantic_gan.critic`) learns to segment the real crops and,
after ``--seg-warmup`` of its own steps, its cross-entropy on the generated crops joins the
generator's loss (weight ``lambda_seg``), so that each class stays recognisable; ``--seg-balance``
weights the classes of each batch equally there (OASIS's balancing), so thin ones count;
``--rare-crops P`` places that fraction of the crops on a rare class of the scene
(:class:`~source_codecs.semantic_gan.dataset.PairFolder`); ``--lambda-colour W`` adds the L1
distance of the 8x8 block means (:func:`~source_codecs.semantic_gan.loss.colour_loss`), the
regions' colours. The latent symbols' histogram
is accumulated for the entropy coder. Every ``--checkpoint-every`` steps ``OUT/checkpoint.pt`` holds
everything needed to continue (``--resume``); at the end ``OUT/weights.pt`` is the fp16 weights file
the codec loads (copy it to ``source_codecs/semantic_gan/weights/semantic_gan_<rate>.pt``).
``OUT/options.json`` records the options and ``OUT/train.log`` the losses.
``--autocast auto`` (the default) runs the forward passes under bf16 autocast on CUDA and on a CPU
with native bf16 (oneDNN's check; 1.3-1.7x faster per step there, shared/FACTS.md), fp32 elsewhere:
on a CPU without it a bf16 step measured 14 s against 1 s in fp32 (2026-12-02). ``bf16`` and
``off`` force either.
The checkpoint keeps fp32 weights and bf16 Adam moments, split into files under 16 MB
(:func:`source_codecs.training.save_checkpoint`). ``--slim-checkpoint PATH`` also writes, at the
end, the copy that is committed: fp16 weights of the codec and the discriminator, no Adam moments
(7.5 MB against 22 MB); ``--resume PATH`` continues from it (or from any checkpoint), with Adam's
statistics restarted.
"""

from __future__ import annotations

__all__ = ["TrainOptions", "main", "train"]

import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from source_codecs import training
from source_codecs.semantic_gan.critic import SegmentationCritic, critic_loss
from source_codecs.semantic_gan.dataset import PairFolder
from source_codecs.semantic_gan.discriminator import MultiscaleDiscriminator
from source_codecs.semantic_gan.loss import (
    colour_loss,
    feature_matching_loss,
    hinge_d_loss,
    hinge_g_loss,
    rate_loss,
)
from source_codecs.semantic_gan.model import SemanticGAN, SemanticGANConfig
from source_codecs.semantic_gan.perceptual import STLPIPSLoss
from source_codecs.semantic_gan.semantic_map import NUM_LABEL_CHANNELS, one_hot
from source_codecs.semantic_gan.zoo import RATES, ZOO
from source_codecs.zoo import find


@dataclass
class TrainOptions:
    """Every option of a training run (saved to ``OUT/options.json``)."""

    data: str
    out: str
    rate: str = "low"
    steps: int = 20000
    batch_size: int = 8
    crop_height: int = 256
    crop_width: int = 512
    lr: float = 2e-4
    ngf: int = 16
    encoder_width: int = 32
    ndf: int = 32
    d_scales: int = 2
    map_factor: int = 4
    lambda_fm: float = 10.0
    lambda_lpips: float = 10.0
    lambda_l1: float = 1.0
    lambda_colour: float = 0.0
    lambda_rate: float = 0.0
    lambda_seg: float = 0.0
    critic_width: int = 32
    seg_balance: bool = False
    seg_warmup: int = 500
    gan_start: int = 0
    erase_prob: float = 0.1
    rare_crops: float = 0.0
    checkpoint_every: int = 500
    log_every: int = 10
    max_minutes: float = 0.0
    workers: int = 2
    device: str = "cpu"
    autocast: str = "auto"
    threads: int = 0
    seed: int = 0


class _Trainer:
    """Models, optimisers and the step counter of one run."""

    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        self.device = torch.device(opts.device)
        config = SemanticGANConfig(
            latent_channels=find(ZOO, opts.rate).latent_channels,
            ngf=opts.ngf,
            encoder_width=opts.encoder_width,
            map_factor=opts.map_factor,
        )
        self.model = SemanticGAN(config).to(self.device).train()
        self.disc = MultiscaleDiscriminator(3, NUM_LABEL_CHANNELS, opts.d_scales, opts.ndf)
        self.disc.to(self.device).train()
        self.lpips = STLPIPSLoss().to(self.device).eval() if opts.lambda_lpips > 0 else None
        # The rate term's learned categorical model; the codec ships the symbol histogram instead.
        shape = (config.latent_channels, config.levels)
        self.rate_logits = torch.nn.Parameter(torch.zeros(shape, device=self.device))
        betas = (0.0, 0.9)
        params = [*self.model.parameters(), self.rate_logits]
        self.opt_g = torch.optim.Adam(params, opts.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), opts.lr, betas=betas)
        self.critic: SegmentationCritic | None = None
        if opts.lambda_seg > 0:
            self.critic = SegmentationCritic(opts.critic_width).to(self.device).train()
            self.opt_c = torch.optim.Adam(self.critic.parameters(), 10 * opts.lr)
        self.critic_steps = 0
        self.step = 0

    def autocast(self) -> torch.autocast:
        """bf16 autocast on the run's device where :func:`use_bf16` says so."""
        enabled = training.use_bf16(self.opts.autocast, self.device)
        return torch.autocast(self.device.type, torch.bfloat16, enabled=enabled)

    def erase(self, latent: torch.Tensor) -> torch.Tensor:
        """Zero a random band of latent rows in a fraction ``erase_prob`` of the batch, as a lost
        packet does at the receiver, so that the generator learns to fill it from the map."""
        if self.opts.erase_prob <= 0:
            return latent
        b, _, h, _ = latent.shape
        rows = torch.arange(h, device=latent.device)
        start = torch.randint(0, h, (b, 1), device=latent.device)
        length = torch.randint(1, h + 1, (b, 1), device=latent.device)
        band = (rows >= start) & (rows < start + length)
        chosen = torch.rand(b, 1, device=latent.device) < self.opts.erase_prob
        keep = ~(band & chosen)
        return latent * keep[:, None, :, None].to(latent.dtype)

    def train_step(self, image: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """One generator and one discriminator update; returns the losses."""
        opts = self.opts
        segmap = one_hot(labels)
        adversarial = self.step >= opts.gan_start
        with self.autocast():
            z = self.model.encoder(image, segmap)
            latent, symbols = self.model.quantizer(z)
            fake = self.model.synthesise(self.erase(latent), segmap)
        self.model.update_counts(symbols)
        logs: dict[str, float] = {}
        if adversarial:
            with self.autocast():
                loss_d = hinge_d_loss(self.disc(image, segmap), self.disc(fake.detach(), segmap))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            logs["d"] = loss_d.item()
        if self.critic is not None:
            logs["seg_real"] = self.critic_step(image, labels)
        with self.autocast():
            fake_f = fake.float()
            loss = opts.lambda_l1 * (fake_f - image).abs().mean()
            logs["l1"] = loss.item() / max(opts.lambda_l1, 1e-12)
            if opts.lambda_colour > 0:
                colour = colour_loss(fake_f, image)
                loss = loss + opts.lambda_colour * colour
                logs["colour"] = colour.item()
            if self.lpips is not None:
                lp = self.lpips(fake_f, image)
                loss = loss + opts.lambda_lpips * lp
                logs["lpips"] = lp.item()
            if opts.lambda_rate > 0:
                bits = rate_loss(self.model.quantizer.assignment(z.float()), self.rate_logits)
                loss = loss + opts.lambda_rate * bits
                logs["bits"] = bits.item()
            if adversarial:
                fake_feats = self.disc(fake, segmap)
                with torch.no_grad():
                    real_feats = self.disc(image, segmap)
                g_adv = hinge_g_loss(fake_feats)
                fm = feature_matching_loss(real_feats, fake_feats)
                loss = loss + g_adv + opts.lambda_fm * fm
                logs["g_adv"], logs["fm"] = g_adv.item(), fm.item()
            if self.critic is not None and self.critic_steps > opts.seg_warmup:
                self.critic.eval()  # batch statistics of real images only
                seg = critic_loss(self.critic(fake), labels, opts.seg_balance)
                self.critic.train()
                loss = loss + opts.lambda_seg * seg
                logs["seg_fake"] = seg.item()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.step += 1
        return logs

    def critic_step(self, image: torch.Tensor, labels: torch.Tensor) -> float:
        """One update of the segmentation critic on real crops; returns its cross-entropy."""
        with self.autocast():
            loss = critic_loss(self.critic(image), labels, self.opts.seg_balance)
        self.opt_c.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_c.step()
        self.critic_steps += 1
        return loss.item()

    def state(self) -> dict[str, Any]:
        """Everything :meth:`restore` needs to continue the run."""
        critic = {}
        if self.critic is not None:
            critic = {"critic": self.critic.state_dict(), "opt_c": self.opt_c.state_dict(),
                      "critic_steps": self.critic_steps}  # fmt: skip
        return {
            **critic,
            "step": self.step,
            "model": self.model.state_dict(),
            "disc": self.disc.state_dict(),
            "rate_logits": self.rate_logits.detach(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "options": asdict(self.opts),
            "rng": training.rng_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`state`."""
        self.step = state["step"]
        self.model.load_state_dict(state["model"])
        self.disc.load_state_dict(state["disc"])
        if "rate_logits" in state:
            with torch.no_grad():
                self.rate_logits.copy_(state["rate_logits"])
            self.opt_g.load_state_dict(state["opt_g"])
        else:  # a checkpoint from before the rate term: its optimiser lacks the logits
            self.opt_g.load_state_dict(_with_new_param(state["opt_g"], self.opt_g))
        self.opt_d.load_state_dict(state["opt_d"])
        if self.critic is not None and "critic" in state:  # else the critic starts afresh
            self.critic.load_state_dict(state["critic"])
            self.opt_c.load_state_dict(state["opt_c"])
            self.critic_steps = state["critic_steps"]
        training.set_rng_state(state["rng"])


def _with_new_param(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """An Adam state dict saved without the last parameter of ``optimizer``, extended to it."""
    group = saved["param_groups"][0]
    group["params"] = [*group["params"], len(optimizer.param_groups[0]["params"]) - 1]
    return saved


def _pairs(loader: DataLoader, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless iteration over the (image, labels) batches of ``loader``, moved to ``device``."""
    for image, labels in training.endless(loader):
        yield image.to(device), labels.to(device)


def train(opts: TrainOptions, *, resume: bool | str | Path = False) -> Path:
    """Run (or continue) training; return the path of the fp16 weights file it wrote."""
    out = training.start_run(opts)
    trainer = _Trainer(opts)
    training.resume_or_start(trainer, out, resume, trainer.device)
    crop = (opts.crop_height, opts.crop_width)
    data = PairFolder(opts.data, crop, opts.map_factor, opts.rare_crops)
    loader = training.make_loader(data, opts.batch_size, opts.workers)
    return training.run_training(trainer, _pairs(loader, trainer.device), opts, out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    prog = "python -m source_codecs.semantic_gan.train"
    choices = {"rate": RATES, "autocast": training.AUTOCAST_CHOICES}
    return training.cli_main(argv, TrainOptions, train, prog, __doc__, choices)


if __name__ == "__main__":
    sys.exit(main())
