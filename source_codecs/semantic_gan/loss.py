"""GAN training losses: hinge adversarial losses and discriminator feature matching (SPADE), the
rate term, and a colour term."""

from __future__ import annotations

__all__ = ["colour_loss", "feature_matching_loss", "hinge_d_loss", "hinge_g_loss", "rate_loss"]

import torch
import torch.nn.functional as F

Features = list[list[torch.Tensor]]
"""Per discriminator scale, the activations of every stage, the patch scores last."""


def hinge_d_loss(real: Features, fake: Features) -> torch.Tensor:
    """Discriminator hinge loss ``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``, averaged over scales.

    :return: [], float.
    """
    terms = [
        F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake, strict=True)
    ]
    return torch.stack(terms).mean()


def hinge_g_loss(fake: Features) -> torch.Tensor:
    """Generator hinge loss ``-E[D(G(z))]``, averaged over scales. :return: [], float."""
    return torch.stack([-f[-1].mean() for f in fake]).mean()


def feature_matching_loss(real: Features, fake: Features) -> torch.Tensor:
    """L1 distance between the discriminator activations (scores excluded) of real and generated
    images, summed over stages and averaged over scales (pix2pixHD). ``real`` is not differentiated.

    :return: [], float.
    """
    terms = [
        sum(F.l1_loss(f_k, r_k.detach()) for r_k, f_k in zip(r[:-1], f[:-1], strict=True))
        for r, f in zip(real, fake, strict=True)
    ]
    return torch.stack(terms).mean()


def rate_loss(assignment: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Expected code length of the latent in bits per symbol (Mentzer et al. 2018, Agustsson et al.
    2019): the cross-entropy between the soft assignments and a learned per-channel categorical
    model ``softmax(logits)``. Its gradient makes the encoder's symbols cheaper to entropy-code and
    fits the model to their distribution.

    :param assignment: [B, C, h, w, L], float, soft assignments (rows sum to 1).
    :param logits: [C, L], float, the learned model.
    :return: [], float, bits per latent symbol.
    """
    log_pmf = torch.log_softmax(logits, -1)[None, :, None, None, :]
    return -(assignment * log_pmf).sum(-1).mean() / torch.log(torch.tensor(2.0))


def colour_loss(fake: torch.Tensor, real: torch.Tensor, block: int = 8) -> torch.Tensor:
    """L1 distance between the ``block`` x ``block`` means of the generated and the real image: the
    colour of each region, which the texture terms (ST-LPIPS, feature matching) leave free.

    :param fake: [B, 3, H, W], float, in [-1, 1]; H and W multiples of ``block``.
    :param real: [B, 3, H, W], float, the same range; not differentiated.
    :return: [], float.
    """
    return F.l1_loss(F.avg_pool2d(fake, block), F.avg_pool2d(real.detach(), block))
