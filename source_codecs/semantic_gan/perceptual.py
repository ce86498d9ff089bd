"""ST-LPIPS (Ghildyal and Liu, ECCV 2022) as a training loss, on the weights of ``stlpips-pytorch``.

The network is the shift-tolerant AlexNet trunk (stride-1 first convolution, 3x3 binomial blur-pool
subsampling) with the five learned linear heads, loaded strictly from
``stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth`` of the PyPI package ``stlpips-pytorch``
(located through the package metadata; the package itself imports torchvision and is never
imported). The parameters are frozen; gradients flow to the input only.

``simulator/metrics`` builds the same network for evaluation; ``source_codecs`` may not import the
simulator, so the trunk is described here once more, as a table of layers.
"""

from __future__ import annotations

__all__ = ["STLPIPSLoss", "stlpips_weight_file"]

import importlib.metadata
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# (slice, layer index in the published stack, kind, c_in, c_out, kernel, stride, padding);
# the layers without parameters (ReLU, max-pool) sit at the indices missing here.
_TRUNK: tuple[tuple[int, int, str, int, int, int, int, int], ...] = (
    (1, 0, "conv", 3, 64, 11, 1, 2),
    (1, 1, "blur", 64, 64, 3, 2, 2),
    (1, 2, "relu", 0, 0, 0, 0, 0),
    (2, 3, "maxpool", 0, 0, 3, 1, 0),
    (2, 4, "blur", 64, 64, 3, 2, 2),
    (2, 5, "conv", 64, 192, 5, 1, 2),
    (2, 6, "relu", 0, 0, 0, 0, 0),
    (3, 7, "maxpool", 0, 0, 3, 1, 0),
    (3, 8, "blur", 192, 192, 3, 2, 2),
    (3, 9, "conv", 192, 384, 3, 1, 1),
    (3, 10, "relu", 0, 0, 0, 0, 0),
    (4, 11, "conv", 384, 256, 3, 1, 1),
    (4, 12, "relu", 0, 0, 0, 0, 0),
    (5, 13, "conv", 256, 256, 3, 1, 1),
    (5, 14, "relu", 0, 0, 0, 0, 0),
)
_HEAD_CHANNELS = (64, 192, 384, 256, 256)


def stlpips_weight_file() -> Path:
    """The ST-LPIPS AlexNet weight file shipped by ``stlpips-pytorch`` (9.9 MB)."""
    relative = "stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth"
    path = Path(importlib.metadata.distribution("stlpips-pytorch").locate_file(relative))
    if not path.is_file():
        raise FileNotFoundError(f"ST-LPIPS weights not found at {path}")
    return path


class _BlurPool(nn.Module):
    """Reflection pad 2, depthwise 3x3 binomial filter (buffer ``filt``), stride 2."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("filt", (taps[:, None] * taps / 16).expand(channels, 1, 3, 3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(
            F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1]
        )


def _layer(kind: str, c_in: int, c_out: int, kernel: int, stride: int, pad: int) -> nn.Module:
    if kind == "conv":
        return nn.Conv2d(c_in, c_out, kernel, stride, pad)
    if kind == "blur":
        return _BlurPool(c_in)
    if kind == "maxpool":
        return nn.MaxPool2d(kernel, stride)
    return nn.ReLU()


class STLPIPSLoss(nn.Module):
    """Mean ST-LPIPS distance of a batch of image pairs, differentiable in both inputs.

    :param weights: the published state dict file; default :func:`stlpips_weight_file`.

    :input x: [B, 3, H, W], float in [-1, 1].
    :input y: [B, 3, H, W], float in [-1, 1].
    :output loss: [], float, the batch mean of the per-pair distances.
    """

    def __init__(self, weights: Path | None = None) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        self.slices = nn.ModuleList(nn.ModuleDict() for _ in range(5))
        for s, index, *spec in _TRUNK:
            self.slices[s - 1][str(index)] = _layer(*spec)
        self.heads = nn.ParameterList(nn.Parameter(torch.zeros(1, c, 1, 1)) for c in _HEAD_CHANNELS)
        self._load(weights or stlpips_weight_file())
        self.requires_grad_(False)

    def _load(self, path: Path) -> None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        own = {"shift": state.pop("scaling_layer.shift"), "scale": state.pop("scaling_layer.scale")}
        for k in range(5):
            own[f"heads.{k}"] = state.pop(f"lin{k}.model.1.weight")
        for key, value in state.items():  # net.slice{s}.{index}.{name}
            _, slice_name, index, name = key.split(".")
            own[f"slices.{int(slice_name[5:]) - 1}.{index}.{name}"] = value
        self.load_state_dict(own, strict=True)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean distance between ``x`` and ``y``."""
        both = (torch.cat([x, y]) - self.shift) / self.scale
        loss = both.new_zeros(())
        for block, head in zip(self.slices, self.heads, strict=True):
            for layer in block.values():
                both = layer(both)
            f = both / (both.square().sum(1, keepdim=True).sqrt() + 1e-10)
            fx, fy = f.chunk(2)
            loss = loss + ((fx - fy).square() * head).sum(1).mean()
        return loss
