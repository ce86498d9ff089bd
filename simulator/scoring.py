"""Scoring reconstructions: per-image metrics, dataset mIoU and distribution metrics (FID, KID).

A sweep shows the same reconstruction many times (error-free points that share a budget, the fallback
image of every lost frame), so the per-image results and Inception features are cached by the image's
content hash: nothing is computed twice, and nothing is approximated.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from simulator.data import Sample
from simulator.metrics import (
    ConfusionMatrix,
    DistributionMetrics,
    MetricUnavailable,
    make_image_metric,
)

__all__ = ["ImageScore", "PointScores", "Scorer"]

IMAGE_METRICS = ("psnr", "ms_ssim", "lpips", "lpips_alex")
NUM_CLASSES = 19


def to_tensor(images: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """uint8 [H, W, 3] images -> float32 [B, 3, H, W] in [0, 1]."""
    batch = np.stack(images).astype(np.float32) / 255.0
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous().to(device)


@dataclass
class ImageScore:
    """Per-image metric values (NaN where not computed) and the segmentation confusion matrix."""

    values: dict[str, float]
    confusion: np.ndarray | None  # int64 [19, 19] (target x prediction) or None


@dataclass
class PointScores:
    """What a sweep point reports: means over images, dataset mIoU, FID, KID."""

    per_image: list[dict[str, float]]
    summary: dict[str, float] = field(default_factory=dict)


class Scorer:
    """Computes the configured metrics against the reference samples.

    :param metrics: names from the configuration (psnr, ms_ssim, lpips, lpips_alex, miou, fid, kid).
    :param samples: the reference images (and labels) of the run.
    :param device: where the networks run.
    :param segmenter: a module mapping float [B, 3, H, W] in [0, 1] to logits [B, 19, H, W], or None.
    """

    def __init__(
        self,
        metrics: Sequence[str],
        samples: Sequence[Sample],
        device: torch.device,
        segmenter: torch.nn.Module | None,
    ) -> None:
        self.samples = samples
        self.device = device
        self.segmenter = segmenter
        self.notes: list[str] = []
        self.image_metrics = {}
        for name in IMAGE_METRICS:
            if name in metrics:
                try:
                    self.image_metrics[name] = make_image_metric(name, device)
                except MetricUnavailable as exc:
                    self.notes.append(f"{name}: not computed: {exc}")
        self.miou = "miou" in metrics and segmenter is not None
        if "miou" in metrics and not self.miou:
            self.notes.append("miou: not computed: no segmenter is available")
        if self.miou and not all(s.labels is not None for s in samples):
            self.miou = False
            self.notes.append("miou: not computed: the data source has no ground-truth labels")
        self.distribution = [m for m in ("fid", "kid") if m in metrics]
        self._features: DistributionMetrics | None = (
            DistributionMetrics(device=device) if self.distribution else None
        )
        self._cache: dict[tuple[int, bytes], ImageScore] = {}
        self._feature_cache: dict[bytes, torch.Tensor] = {}

    @torch.inference_mode()
    def score_image(self, index: int, image: np.ndarray) -> ImageScore:
        """Score one reconstruction (uint8 [H, W, 3]) of sample ``index``."""
        digest = hashlib.sha1(image.tobytes()).digest()
        key = (index, digest)
        if key in self._cache:
            return self._cache[key]
        ref = to_tensor([self.samples[index].image], self.device)
        rec = to_tensor([image], self.device)
        values = {name: float(metric(ref, rec)[0]) for name, metric in self.image_metrics.items()}
        confusion = None
        if self.miou:
            pred = self.segmenter(rec).argmax(1)
            target = torch.from_numpy(self.samples[index].labels.astype(np.int64))[None]
            cm = ConfusionMatrix(NUM_CLASSES)
            cm.update(pred.cpu(), target)
            confusion = cm.matrix.cpu().numpy()
            values["miou"] = cm.miou()
        self._cache[key] = ImageScore(values, confusion)
        return self._cache[key]

    def _inception(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """2048-d Inception pool3 features [B, 2048], cached by content.

        Computed one image at a time, so a feature never depends on which other images happened to
        share its batch (results are identical whatever the executor or cache state).
        """
        digests = [hashlib.sha1(im.tobytes()).digest() for im in images]
        for digest, image in zip(digests, images, strict=True):
            if digest not in self._feature_cache:
                feats = self._features.features(to_tensor([image], self.device))
                self._feature_cache[digest] = feats[0]
        return torch.stack([self._feature_cache[d] for d in digests])

    @torch.inference_mode()
    def score_point(self, images: Sequence[np.ndarray]) -> PointScores:
        """Score all reconstructions of a point (``images[i]`` reconstructs sample ``i``)."""
        scores = [self.score_image(i, im) for i, im in enumerate(images)]
        summary: dict[str, float] = {}
        for name in self.image_metrics:
            summary[name] = _finite_mean([s.values[name] for s in scores])
        if self.miou:
            total = sum(s.confusion for s in scores)
            summary["miou"] = ConfusionMatrix.from_matrix(total).miou()
        if self._features is not None:
            ref = self._inception([s.image for s in self.samples])
            rec = self._inception(images)
            dist = self._features.compute_from_features(ref, rec)
            for name in self.distribution:
                summary[name] = dist[name]
        return PointScores([s.values for s in scores], summary)


def _finite_mean(values: Sequence[float]) -> float:
    """Mean of the values; PSNR of a perfect image is capped upstream, so NaN only means 'not computed'."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
