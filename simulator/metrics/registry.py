"""Metric names the configuration may list, what kind each is, and factories for the per-image ones.

============  ============  ======  =====================================================================
name          level         better  meaning
============  ============  ======  =====================================================================
psnr          image         higher  PSNR in dB, peak 1.0, identical images capped at 100 dB
ms_ssim       image         higher  MS-SSIM in [0, 1] (5 scales, fewer on small images)
lpips         image         lower   Shift-Tolerant LPIPS, AlexNet (weights of ``stlpips-pytorch``)
lpips_alex    image         lower   official LPIPS v0.1, AlexNet (only where its weights are cached)
miou          image         higher  mIoU of a segmenter's prediction on the reconstruction vs the labels
fid           distribution  lower   Fréchet Inception Distance over the set of images
kid           distribution  lower   Kernel Inception Distance (paired, unbiased) over the set of images
============  ============  ======  =====================================================================

``miou`` is per image and also accumulated over the set (dataset mIoU from the summed confusion
matrices); it needs labelled data and a segmenter, and is computed by the simulator from predictions
(:mod:`~simulator.metrics.miou`), so it has no factory here.
"""

from __future__ import annotations

__all__ = [
    "DISTRIBUTION_METRICS",
    "IMAGE_METRICS",
    "MetricInfo",
    "ReferenceMetric",
    "available_metrics",
    "make_image_metric",
    "metric_info",
    "scores_better",
]

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import torch

from simulator.metrics.lpips import load_lpips, load_lpips_alex
from simulator.metrics.ms_ssim import ms_ssim
from simulator.metrics.psnr import PSNR_CAP_DB, psnr

ImageMetric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``metric(ref, rec) -> [B]``: references and reconstructions float32 [B, 3, H, W] in [0, 1]."""


@runtime_checkable
class ReferenceMetric(Protocol):
    """An :data:`ImageMetric` that can prepare its references once for many reconstructions
    (LPIPS: the reference's features), with exactly the numbers of ``metric(ref, rec)``."""

    def __call__(self, ref: torch.Tensor, rec: torch.Tensor) -> torch.Tensor: ...

    def reference(self, ref: torch.Tensor) -> Any:
        """What the metric needs of references float32 [B, 3, H, W] in [0, 1]."""

    def compare(self, reference: Any, rec: torch.Tensor) -> torch.Tensor:
        """The metric [B] of reconstructions ``rec`` against prepared ``reference``."""


@dataclass(frozen=True)
class MetricInfo:
    """What a metric name stands for.

    :param name: Name as written in the configuration and in the result columns.
    :param level: ``"image"`` (a value per image, averaged per point) or ``"distribution"`` (one value
        per point, from the whole set of images).
    :param higher_is_better: Direction of quality.
    :param unit: Unit of the value ("dB" or "" for dimensionless).
    :param doc: What it measures, one line.
    :param valid_range: (lowest, highest) value the metric can take (confidence bands are clipped to
        it); infinite where unbounded.
    """

    name: str
    level: Literal["image", "distribution"]
    higher_is_better: bool
    unit: str = ""
    doc: str = ""
    valid_range: tuple[float, float] = (-math.inf, math.inf)


_METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo(
            "psnr",
            "image",
            True,
            "dB",
            "PSNR, peak 1.0, identical images capped at 100 dB",
            (0.0, PSNR_CAP_DB),
        ),
        MetricInfo(
            "ms_ssim",
            "image",
            True,
            "",
            "MS-SSIM in [0, 1] (5 scales, fewer on small images)",
            (0.0, 1.0),
        ),
        MetricInfo(
            "lpips",
            "image",
            False,
            "",
            "Shift-Tolerant LPIPS, AlexNet (stlpips-pytorch weights)",
            (0.0, math.inf),
        ),
        MetricInfo(
            "lpips_alex",
            "image",
            False,
            "",
            "official LPIPS v0.1, AlexNet (only where its weights are cached)",
            (0.0, math.inf),
        ),
        MetricInfo(
            "miou",
            "image",
            True,
            "",
            "mIoU of the segmenter's prediction on the reconstruction vs the labels",
            (0.0, 1.0),
        ),
        MetricInfo(
            "fid",
            "distribution",
            False,
            "",
            "Frechet Inception Distance over the point's images",
            (0.0, math.inf),
        ),
        MetricInfo(
            "kid",
            "distribution",
            False,
            "",
            "Kernel Inception Distance (paired, unbiased) over the point's images",
        ),
    )
}

IMAGE_METRICS: tuple[str, ...] = tuple(n for n, m in _METRICS.items() if m.level == "image")
"""Metrics with one value per image (psnr, ms_ssim, lpips, lpips_alex, miou)."""

DISTRIBUTION_METRICS: tuple[str, ...] = tuple(
    n for n, m in _METRICS.items() if m.level == "distribution"
)
"""Metrics with one value per set of images (fid, kid)."""

_FACTORIES: dict[str, Callable[[torch.device], ImageMetric]] = {
    "psnr": lambda device: psnr,
    "ms_ssim": lambda device: ms_ssim,
    "lpips": load_lpips,
    "lpips_alex": load_lpips_alex,
}


def available_metrics() -> list[str]:
    """Every metric name a configuration may list, in a fixed order."""
    return list(_METRICS)


def metric_info(name: str) -> MetricInfo:
    """The :class:`MetricInfo` of ``name``; ``KeyError`` naming the choices if unknown."""
    if name not in _METRICS:
        raise KeyError(f"unknown metric '{name}'; choose from {', '.join(_METRICS)}")
    return _METRICS[name]


def scores_better(name: str, value: float, than: float) -> bool:
    """True when ``value`` of metric ``name`` is strictly better than ``than``: higher for psnr,
    ms_ssim and miou, lower for lpips, lpips_alex, fid and kid (:attr:`MetricInfo.higher_is_better`).
    A NaN (not computed) is never better, and any number is better than a NaN."""
    if math.isnan(value):
        return False
    if math.isnan(than):
        return True
    return value > than if metric_info(name).higher_is_better else value < than


def make_image_metric(name: str, device: str | torch.device = "cpu") -> ImageMetric:
    """A per-image metric ready to call: ``metric(ref, rec) -> [B]`` on ``device``.

    Networks (LPIPS) are loaded here, once per device, so that the call itself is cheap.

    :param name: One of psnr, ms_ssim, lpips, lpips_alex.
    :param device: Where the metric runs; inputs must be on it.
    :raises ValueError: for a metric without a per-image factory (miou, fid, kid) or an unknown name.
    :raises MetricUnavailable: if the metric's weights are not available offline.
    """
    if name not in _FACTORIES:
        raise ValueError(
            f"'{name}' has no per-image factory; per-image metrics: {', '.join(_FACTORIES)}"
        )
    return _FACTORIES[name](torch.device(device))
