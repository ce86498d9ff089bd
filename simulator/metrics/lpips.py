"""LPIPS perceptual distance: Shift-Tolerant LPIPS (default) and the official LPIPS v0.1, AlexNet trunk.

Both compute, for a reference ``x`` and a reconstruction ``y`` in [0, 1] (Zhang et al., CVPR 2018):

1. map to [-1, 1], then the scaling layer ``(v - shift) / scale`` (ImageNet statistics in that range,
   shift = (-0.030, -0.088, -0.188), scale = (0.458, 0.448, 0.450));
2. the five ReLU activations of an AlexNet trunk (:class:`~simulator.metrics.alexnet.AlexNetFeatures`);
3. per layer, unit-normalise each pixel's feature vector along the channels (``f / (||f|| + 1e-10)``),
   square the difference, weight the channels with a learned non-negative 1x1 convolution ("linear
   head"), average over the spatial positions;
4. sum the five layers.

``lpips`` (:func:`load_lpips`) is ST-LPIPS (Ghildyal and Liu, ECCV 2022): the anti-aliased,
stride-1-first trunk with the weights shipped in the PyPI package ``stlpips-pytorch==0.0.2``
(``stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth``: trunk, scaling layer and heads trained
together). The file is located through the package metadata; the package itself is never imported
(its modules import torchvision, which does not run beside this torch).

``lpips_alex`` (:func:`load_lpips_alex`) is the official LPIPS v0.1: torchvision's ImageNet AlexNet
(``alexnet-owt-7be5be79.pth``, only if already in the torch hub cache; nothing is downloaded) and the
linear heads of an installed ``lpips`` package. Where either is missing, it raises
:class:`~simulator.metrics.errors.MetricUnavailable`.
"""

from __future__ import annotations

__all__ = [
    "LPIPS",
    "load_lpips",
    "load_lpips_alex",
    "lpips_alex_from_state_dicts",
    "lpips_alex_weights",
    "stlpips_weights",
]

import importlib.metadata
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from simulator.metrics.alexnet import CHANNELS, AlexNetFeatures, AlexNetVariant
from simulator.metrics.errors import MetricUnavailable

TORCHVISION_ALEXNET = "alexnet-owt-7be5be79.pth"
"""File name of torchvision's ImageNet AlexNet weights in the torch hub cache."""


class ScalingLayer(nn.Module):
    """LPIPS input normalisation: ``(x - shift) / scale`` per channel, for inputs in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` [B, 3, H, W] in [-1, 1]."""
        return (x - self.shift) / self.scale


class LinearHead(nn.Module):
    """A learned 1x1 convolution (no bias) from ``channels`` squared feature differences to one map.

    Index 0 of ``model`` held the dropout used in training; it is an identity here so that the
    weight keeps its published name ``model.1.weight``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, 1, H, W]."""
        return self.model(x)


def _unit_normalise(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Divide each pixel's channel vector of ``x`` [B, C, H, W] by its L2 norm (+ eps)."""
    return x / (x.square().sum(1, keepdim=True).sqrt() + eps)


class LPIPS(nn.Module):
    """LPIPS distance between image batches (lower = more similar; 0 for identical images).

    The parameters start random; load published weights with :func:`load_lpips` or
    :func:`load_lpips_alex`. State-dict keys: ``scaling_layer.{shift,scale}``,
    ``net.slice{1..5}.<i>.{weight,bias,filt}``, ``lin{0..4}.model.1.weight``.

    :param variant: AlexNet trunk, ``"shift_tolerant"`` (ST-LPIPS) or ``"vanilla"`` (LPIPS v0.1).

    :input ref: [B, 3, H, W], float32 in [0, 1], reference images.
    :input rec: [B, 3, H, W], float32 in [0, 1], reconstructions (same shape and device).
    :output distance: [B], float32, the LPIPS distance of each pair.
    """

    def __init__(self, variant: AlexNetVariant = "shift_tolerant") -> None:
        super().__init__()
        self.scaling_layer = ScalingLayer()
        self.net = AlexNetFeatures(variant)
        for k, channels in enumerate(CHANNELS):
            self.add_module(f"lin{k}", LinearHead(channels))

    def forward(self, ref: torch.Tensor, rec: torch.Tensor) -> torch.Tensor:
        """Per-pair distance, float32 [B]: :meth:`compare` of :meth:`reference` ``(ref)``."""
        if ref.shape != rec.shape or ref.dim() != 4:
            raise ValueError(
                f"LPIPS: expected two [B, 3, H, W] tensors of one shape, got {tuple(ref.shape)} and {tuple(rec.shape)}"
            )
        return self.compare(self.reference(ref), rec)

    def _trunk_input(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [0, 1] -> the trunk's scaled input, channels_last: the AlexNet
        convolutions run 14-15 % faster so on the CPU (``benchmarks/results/throughput.md``)."""
        return self.scaling_layer(2.0 * images - 1.0).contiguous(memory_format=torch.channels_last)

    def reference(self, ref: torch.Tensor) -> list[torch.Tensor]:
        """What the distance needs of the references: their five unit-normalised feature maps.

        Computed once, they serve every reconstruction of the same references (:meth:`compare`),
        with exactly the numbers :meth:`forward` computes.

        :input ref: [B, 3, H, W], float32 in [0, 1].
        :output features: five float32 [B, C_k, H_k, W_k] (C_k = 64, 192, 384, 256, 256).
        """
        return [_unit_normalise(f) for f in self.net(self._trunk_input(ref))]

    def compare(self, reference: list[torch.Tensor], rec: torch.Tensor) -> torch.Tensor:
        """Per-pair distance, float32 [B], of reconstructions ``rec`` ([B, 3, H, W] in [0, 1]) to
        the references whose :meth:`reference` features are ``reference``."""
        feats_rec = self.net(self._trunk_input(rec))
        distance = torch.zeros(rec.shape[0], device=rec.device, dtype=rec.dtype)
        for k, (f0, f1) in enumerate(zip(reference, feats_rec, strict=True)):
            if f0.shape != f1.shape:
                raise ValueError(
                    f"LPIPS: reference features {tuple(f0.shape)} do not match the reconstructions' {tuple(f1.shape)}"
                )
            diff = (f0 - _unit_normalise(f1)).square()
            distance = distance + getattr(self, f"lin{k}")(diff).mean((1, 2, 3))
        return distance


def _package_file(distribution: str, relative: str) -> Path:
    """Path of a file shipped in an installed distribution, found without importing it."""
    try:
        path = Path(importlib.metadata.distribution(distribution).locate_file(relative))
    except importlib.metadata.PackageNotFoundError as exc:
        raise MetricUnavailable(f"the package '{distribution}' is not installed") from exc
    if not path.is_file():
        raise MetricUnavailable(f"'{distribution}' is installed but {relative} is missing ({path})")
    return path


def stlpips_weights() -> Path:
    """The ST-LPIPS AlexNet weights shipped by ``stlpips-pytorch`` (9.9 MB ``.pth`` file)."""
    return _package_file(
        "stlpips-pytorch", "stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth"
    )


def lpips_alex_weights() -> tuple[Path, Path]:
    """The files of the official LPIPS v0.1 AlexNet: (torchvision trunk, ``lpips`` linear heads).

    :raises MetricUnavailable: if torchvision's AlexNet is not in the torch hub cache or the ``lpips``
        package is not installed.
    """
    trunk = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_ALEXNET
    if not trunk.is_file():
        raise MetricUnavailable(
            f"torchvision's AlexNet weights are not in the torch hub cache ({trunk}); nothing is downloaded at run time"
        )
    try:
        heads = _package_file("lpips", "lpips/weights/v0.1/alex.pth")
    except MetricUnavailable as exc:
        raise MetricUnavailable(f"LPIPS v0.1 linear heads: {exc}") from exc
    return trunk, heads


def _ready(model: LPIPS, device: str | torch.device) -> LPIPS:
    """Evaluation mode, frozen, on ``device``, the convolution weights channels_last."""
    model.requires_grad_(False)
    return model.eval().to(device, memory_format=torch.channels_last)


@lru_cache(maxsize=4)
def _load_stlpips(device: str) -> LPIPS:
    model = LPIPS("shift_tolerant")
    state = torch.load(stlpips_weights(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return _ready(model, device)


def load_lpips(device: str | torch.device = "cpu") -> LPIPS:
    """ST-LPIPS (AlexNet) with the published weights, strictly loaded; cached per device.

    :param device: Where the network runs.
    :return: An :class:`LPIPS` module in eval mode; call it as ``model(ref, rec) -> [B]``.
    :raises MetricUnavailable: if ``stlpips-pytorch`` or its weight file is missing.
    """
    return _load_stlpips(str(torch.device(device)))


def lpips_alex_from_state_dicts(
    trunk: dict[str, torch.Tensor], heads: dict[str, torch.Tensor]
) -> LPIPS:
    """Assemble LPIPS v0.1 from torchvision's AlexNet state dict and the ``lpips`` linear heads.

    :param trunk: torchvision ``alexnet`` state dict (keys ``features.<i>.{weight,bias}``; the
        ``classifier`` entries are not used).
    :param heads: ``lpips/weights/v0.1/alex.pth`` (keys ``lin{0..4}.model.1.weight``).
    :return: The model on the CPU, strictly loaded, in eval mode.
    """
    model = LPIPS("vanilla")
    state = {f"scaling_layer.{k}": v for k, v in model.scaling_layer.state_dict().items()}
    for (
        key
    ) in model.net.state_dict():  # "slice<k>.<i>.<param>" <- torchvision "features.<i>.<param>"
        _, index, param = key.split(".")
        source = f"features.{index}.{param}"
        if source not in trunk:
            raise MetricUnavailable(
                f"the AlexNet state dict has no '{source}': not torchvision's alexnet"
            )
        state[f"net.{key}"] = trunk[source]
    state.update(heads)
    model.load_state_dict(state, strict=True)
    return _ready(model, "cpu")


@lru_cache(maxsize=4)
def _load_lpips_alex(device: str) -> LPIPS:
    trunk_path, heads_path = lpips_alex_weights()
    trunk = torch.load(trunk_path, map_location="cpu", weights_only=True)
    heads = torch.load(heads_path, map_location="cpu", weights_only=True)
    return _ready(lpips_alex_from_state_dicts(trunk, heads), device)


def load_lpips_alex(device: str | torch.device = "cpu") -> LPIPS:
    """The official LPIPS v0.1 (AlexNet); cached per device.

    :param device: Where the network runs.
    :return: An :class:`LPIPS` module in eval mode.
    :raises MetricUnavailable: where its weights are not available offline (:func:`lpips_alex_weights`).
    """
    return _load_lpips_alex(str(torch.device(device)))
