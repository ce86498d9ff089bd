"""Fidelity metrics of reconstructed images, batched in torch on the CPU or a GPU.

Images are float32 [B, 3, H, W] in [0, 1]. Per image: :func:`psnr`, :func:`ms_ssim`, LPIPS
(:func:`load_lpips`: Shift-Tolerant LPIPS; :func:`load_lpips_alex`: official LPIPS v0.1) and the mIoU
of segmentations (:class:`ConfusionMatrix`, :func:`per_image_miou`). Per set of images: FID and KID
on Inception-v3 features (:class:`DistributionMetrics`). Names and kinds: :mod:`.registry`.
"""

from __future__ import annotations

__all__ = [
    "DISTRIBUTION_METRICS",
    "IMAGE_METRICS",
    "LPIPS",
    "PSNR_CAP_DB",
    "ConfusionMatrix",
    "DistributionMetrics",
    "InceptionFeatures",
    "MetricInfo",
    "MetricUnavailable",
    "ReferenceMetric",
    "available_metrics",
    "frechet_distance",
    "frechet_distance_from_features",
    "kernel_inception_distance",
    "load_lpips",
    "load_lpips_alex",
    "make_image_metric",
    "metric_info",
    "ms_ssim",
    "per_image_miou",
    "psnr",
    "scores_better",
]

from simulator.metrics.distribution import DistributionMetrics
from simulator.metrics.errors import MetricUnavailable
from simulator.metrics.fid import frechet_distance, frechet_distance_from_features
from simulator.metrics.inception import InceptionFeatures
from simulator.metrics.kid import kernel_inception_distance
from simulator.metrics.lpips import LPIPS, load_lpips, load_lpips_alex
from simulator.metrics.miou import ConfusionMatrix, per_image_miou
from simulator.metrics.ms_ssim import ms_ssim
from simulator.metrics.psnr import PSNR_CAP_DB, psnr
from simulator.metrics.registry import (
    DISTRIBUTION_METRICS,
    IMAGE_METRICS,
    MetricInfo,
    ReferenceMetric,
    available_metrics,
    make_image_metric,
    metric_info,
    scores_better,
)
