"""A compact encoder-decoder CNN that segments street scenes into the 19 Cityscapes trainIds.

It is the judge of semantic fidelity: the simulator runs it on every reconstructed image of every sweep
point on a CPU, so it is built for speed (depthwise-separable convolutions, a 1/16 encoder, logits
predicted at half resolution and upsampled bilinearly, or, with ``full_width``, refined at full
resolution by a narrow path from the image so that thin classes keep their pixels).
"""

from __future__ import annotations

__all__ = ["Segmenter", "SegmenterConfig", "fuse_batchnorm"]

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


@dataclass(frozen=True)
class SegmenterConfig:
    """Architecture of a :class:`Segmenter`; stored beside the weights so a checkpoint rebuilds itself.

    :param num_classes: Number of output classes (19 Cityscapes trainIds).
    :param widths: Channels at strides 2, 4, 8 and 16.
    :param decoder_width: Channels of every decoder stage.
    :param context_dilations: Dilations of the residual blocks at stride 16 (receptive field).
    :param full_width: Channels of the full-resolution path (a stem on the image, fused last, so
        that one-pixel-wide poles and distant riders are classified at their own resolution);
        0 predicts at stride 2 and upsamples.
    """

    num_classes: int = 19
    widths: tuple[int, int, int, int] = (16, 32, 64, 128)
    decoder_width: int = 32
    context_dilations: tuple[int, ...] = (1, 2, 4, 8)
    full_width: int = 0

    def to_dict(self) -> dict:
        """A plain dictionary (lists instead of tuples) for checkpoints."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> SegmenterConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class ConvBNReLU(nn.Sequential):
    """Dense ``k x k`` convolution, batch norm, ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class SeparableBlock(nn.Module):
    """Depthwise ``3 x 3`` (optionally strided or dilated) + pointwise ``1 x 1`` convolution.

    Residual when the shape is kept, so deep stacks of it train quickly.

    :input x: [B, cin, H, W], torch.float32
    :output y: [B, cout, H / stride, W / stride], torch.float32
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride, dilation, dilation, groups=cin, bias=False),
            nn.BatchNorm2d(cin),
        )
        self.pointwise = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(F.relu(self.depthwise(x)))
        return F.relu(y + x if self.residual else y)


class FusionStage(nn.Module):
    """Upsample the coarser decoder features, add a ``1 x 1`` projection of the skip, refine.

    :input coarse: [B, D', H / 2, W / 2], torch.float32 (decoder features; D' = coarse_channels,
        projected to D first when it differs)
    :input skip: [B, C, H, W], torch.float32 (encoder features)
    :output y: [B, D, H, W], torch.float32
    """

    def __init__(self, skip_channels: int, width: int, coarse_channels: int | None = None) -> None:
        super().__init__()
        cin = width if coarse_channels is None else coarse_channels
        # A 1 x 1 projection before upsampling when the coarse features are wider than this stage.
        self.project = (
            nn.Identity()
            if cin == width
            else nn.Sequential(nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width))
        )
        self.lateral = nn.Sequential(
            nn.Conv2d(skip_channels, width, 1, bias=False), nn.BatchNorm2d(width)
        )
        self.refine = SeparableBlock(width, width)

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(
            self.project(coarse), size=skip.shape[-2:], mode="bilinear", align_corners=False
        )
        return self.refine(F.relu(up + self.lateral(skip)))


class Segmenter(nn.Module):
    """Semantic segmentation of RGB images into :attr:`SegmenterConfig.num_classes` classes.

    Encoder: a dense stem to stride 2 and 4, separable blocks to stride 8 and 16, dilated residual
    blocks plus a global-average context vector at stride 16. Decoder: three :class:`FusionStage` s
    back to stride 2 (skips from strides 8, 4, 2), a ``1 x 1`` classifier, bilinear upsampling to the
    input size; with ``full_width`` > 0 a fourth stage fuses the decoder (projected to ``full_width``
    channels) with a stride-1 stem on the image, and the classifier runs at full resolution. Any input size works; sizes divisible by 16 waste nothing.

    :param config: Architecture; defaults to :class:`SegmenterConfig` ().

    :input images: [B, 3, H, W], torch.float32, RGB in [0, 1]
    :output logits: [B, num_classes, H, W], torch.float32 (unnormalised class scores)

    Example::

        >>> net = Segmenter().eval()
        >>> net(torch.rand(1, 3, 256, 512)).shape
        torch.Size([1, 19, 256, 512])
    """

    # ImageNet statistics: a common, fixed input normalisation.
    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, config: SegmenterConfig | None = None) -> None:
        super().__init__()
        self.config = config or SegmenterConfig()
        w1, w2, w3, w4 = self.config.widths
        d = self.config.decoder_width
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1), persistent=False)
        self.stride2 = ConvBNReLU(3, w1, stride=2)
        self.stride4 = nn.Sequential(ConvBNReLU(w1, w2, stride=2), SeparableBlock(w2, w2))
        self.stride8 = nn.Sequential(SeparableBlock(w2, w3, stride=2), SeparableBlock(w3, w3))
        self.stride16 = nn.Sequential(
            SeparableBlock(w3, w4, stride=2),
            *(SeparableBlock(w4, w4, dilation=r) for r in self.config.context_dilations),
        )
        # No batch norm on the pooled vector: a 1 x 1 map of one image has no statistics.
        self.context = nn.Conv2d(w4, w4, 1)
        self.bottleneck = ConvBNReLU(w4, d, kernel=1)
        self.fuse8 = FusionStage(w3, d)
        self.fuse4 = FusionStage(w2, d)
        self.fuse2 = FusionStage(w1, d)
        fw = self.config.full_width
        self.stride1 = ConvBNReLU(3, fw) if fw else None
        self.fuse1 = FusionStage(fw, fw, coarse_channels=d) if fw else None
        self.classifier = nn.Conv2d(fw or d, self.config.num_classes, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # channels_last: faster convolutions on CPU, and a fast argmax over the class dimension.
        x = ((images - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        f2 = self.stride2(x)
        f4 = self.stride4(f2)
        f8 = self.stride8(f4)
        f16 = self.stride16(f8)
        pooled = f16.mean(dim=(2, 3), keepdim=True)
        f16 = F.relu(f16 + self.context(pooled))
        y = self.fuse2(self.fuse4(self.fuse8(self.bottleneck(f16), f8), f4), f2)
        if self.stride1 is not None:
            return self.classifier(self.fuse1(y, self.stride1(x)))
        logits = self.classifier(y)
        return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


def fuse_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every ``Conv2d`` -> ``BatchNorm2d`` pair of ``nn.Sequential`` s into the convolution.

    Same outputs in eval mode (up to float rounding), fewer passes over memory. Works in place on
    a module in eval mode and returns it; the folded batch norms become ``nn.Identity``.

    :param module: A module in eval mode, e.g. a :class:`Segmenter`.
    :return: ``module``, with its batch norms folded.
    """
    if module.training:
        raise ValueError("fuse_batchnorm needs a module in eval mode")
    for seq in module.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, bn)
                seq[i + 1] = nn.Identity()
    return module
