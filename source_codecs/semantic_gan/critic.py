"""A segmentation critic: a small segmenter trained beside the GAN to keep the generated images'
classes recognisable (a semantic-consistency loss in the spirit of OASIS, Schönfeld et al. 2021).

The discriminator sees the map it is conditioned on, so it cannot judge whether a generated pixel
looks like its class. The critic sees the image alone. It learns to segment the *real* training
crops (cross-entropy with their labels), and the generator is penalised by the critic's
cross-entropy on its *generated* crops. The critic is trained from scratch with the GAN, only on the
GAN's training scenes, and is never the network that scores mIoU (``simulator.metrics``'s
segmenter), so the metric stays an independent judge.
"""

from __future__ import annotations

__all__ = ["SegmentationCritic", "critic_loss"]

import torch
import torch.nn.functional as F
from torch import nn

from source_codecs.labels import NUM_CLASSES
from source_codecs.semantic_gan.semantic_map import label_channels


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    pad = dilation
    conv = nn.Conv2d(c_in, c_out, 3, stride, pad, dilation=dilation, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SegmentationCritic(nn.Module):
    """A U-Net-like segmenter: three stride-2 stages, a dilated context stage, skip fusion at 1/2
    and a bilinear upsampling of the logits to full resolution.

    :param width: channels of the first stage (then 2x, 3x, 4x).

    :input image: [B, 3, H, W], float in [-1, 1]; H and W multiples of 8.
    :output logits: [B, 19, H, W], float (trainIds 0..18).
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(_block(3, w, 2), _block(w, w))  # 1/2
        self.down2 = nn.Sequential(_block(w, 2 * w, 2), _block(2 * w, 2 * w))  # 1/4
        self.down3 = nn.Sequential(_block(2 * w, 3 * w, 2), _block(3 * w, 3 * w))  # 1/8
        self.context = nn.Sequential(
            _block(3 * w, 4 * w, dilation=2), _block(4 * w, 4 * w, dilation=4)
        )
        self.fuse4 = _block(4 * w + 2 * w, 2 * w)
        self.fuse2 = _block(2 * w + w, w)
        self.head = nn.Conv2d(w, NUM_CLASSES, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Per-pixel class logits of ``image``."""
        s2 = self.stem(image)
        s4 = self.down2(s2)
        x = self.context(self.down3(s4))
        x = self.fuse4(torch.cat([_up(x, s4), s4], 1))
        x = self.fuse2(torch.cat([_up(x, s2), s2], 1))
        return F.interpolate(
            self.head(x), size=image.shape[-2:], mode="bilinear", align_corners=False
        )


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` bilinearly resized to the spatial size of ``like``."""
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


def critic_loss(logits: torch.Tensor, labels: torch.Tensor, balanced: bool = False) -> torch.Tensor:
    """Pixel cross-entropy of the critic's logits against trainIds, ignore pixels left out.

    :param logits: [B, 19, H, W], float.
    :param labels: [B, H, W], integer trainIds (255 or any value >= 19 = ignore).
    :param balanced: weight each class present in the batch by ``N / (K n_c)`` (N labelled pixels,
        K classes present, n_c pixels of class c), OASIS's class balancing (Schönfeld et al. 2021):
        every present class weighs the same in the loss however few pixels it has, so thin ones
        (pole, sign, light, bicycle) are not drowned out by road and sky. The mean weight per
        pixel stays 1.
    :return: [], float, nats per labelled pixel.
    """
    target = label_channels(labels)
    target = torch.where(target == NUM_CLASSES, torch.full_like(target, -100), target)
    valid = target >= 0
    if not bool(valid.any()):  # nothing labelled in the crop
        return logits.float().sum() * 0.0
    if not balanced:
        return F.cross_entropy(logits.float(), target, ignore_index=-100)
    counts = torch.bincount(target[valid], minlength=NUM_CLASSES).float()
    present = counts > 0
    weight = torch.where(present, counts.sum() / (present.sum() * counts.clamp(min=1)), 0.0)
    pixel = F.cross_entropy(logits.float(), target, ignore_index=-100, reduction="none")
    return (pixel * weight[target.clamp(min=0)] * valid).sum() / valid.sum()
