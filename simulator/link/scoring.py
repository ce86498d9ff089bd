"""Scoring reconstructions: per-image metrics, dataset mIoU and distribution metrics (FID, KID).

A sweep shows the same reconstructions many times (error-free points that share a budget, the fallback
image of every lost frame), so the results and Inception features of each batch of images (one image on
the CPU) are cached by the images' content hashes: nothing is computed twice, and nothing is
approximated. What depends on the references alone is computed once per run: their Inception
features, and what a :class:`~simulator.metrics.ReferenceMetric` (LPIPS) needs of them (their
features), for each batch of references up to :data:`REFERENCE_CACHE_BYTES` (beyond, afresh each time).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np
import torch

from simulator.data import NUM_CLASSES, Sample
from simulator.link.threads import map_side_by_side
from simulator.metrics import (
    ConfusionMatrix,
    DistributionMetrics,
    MetricUnavailable,
    ReferenceMetric,
    make_image_metric,
)
from simulator.metrics.miou import confusion_matrix
from simulator.metrics.segmentation import segment
from source_codecs.base import GPU_BATCH, image_digest

__all__ = [
    "REFERENCE_CACHE_BYTES",
    "ImageScore",
    "PointScores",
    "Scorer",
    "metric_batch_size",
    "segment_images",
]

_T = TypeVar("_T")
IMAGE_METRICS = ("psnr", "ms_ssim", "lpips", "lpips_alex")
REFERENCE_CACHE_BYTES = 2 << 30
"""Bound on the prepared references kept (ST-LPIPS: 20.7 MiB per 256x512 image): the first batches
are kept, later ones are prepared afresh at every point (a sweep visits the images cyclically, where
evicting the oldest would keep nothing useful)."""


def metric_batch_size(device: torch.device) -> int:
    """Images per forward pass of the metric networks on ``device``: 1 on the CPU (measured on 2
    cores at 256x512: batches of 4 are no faster, of 8 and 16 1.4x and 1.8x slower than one image
    per pass, ``benchmarks/results/metric_batching.md``), :data:`GPU_BATCH` on a GPU."""
    return 1 if device.type == "cpu" else GPU_BATCH


def to_tensor(images: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """uint8 [H, W, 3] images -> float32 [B, 3, H, W] in [0, 1]."""
    batch = np.stack(images).astype(np.float32) / 255.0
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous().to(device)


def segment_images(
    segmenter: torch.nn.Module,
    images: Sequence[np.ndarray],
    device: torch.device,
    batch_size: int = 1,
) -> np.ndarray:
    """The segmenter's trainIds of each image, ``batch_size`` consecutive images per forward pass.

    :param images: uint8 [H, W, 3] RGB images.
    :return: uint8 [len(images), H, W] trainIds (0-18).
    """
    return np.concatenate(
        [
            segment(to_tensor(images[i : i + batch_size], device), segmenter).byte().cpu().numpy()
            for i in range(0, len(images), batch_size)
        ]
    )


@dataclass
class ImageScore:
    """Per-image metric values (NaN where not computed) and the segmentation confusion matrix."""

    values: dict[str, float]
    confusion: np.ndarray | None  # int64 [19, 19] (target x prediction) or None


@dataclass
class PointScores:
    """What a sweep point reports: means over images, dataset mIoU (and its ``miou_reference``), FID,
    KID."""

    per_image: list[dict[str, float]]
    summary: dict[str, float | str] = field(default_factory=dict)


class Scorer:
    """Computes the configured metrics against the reference samples.

    :param metrics: names from the configuration (psnr, ms_ssim, lpips, lpips_alex, miou, fid, kid).
    :param samples: the reference images (and labels) of the run.
    :param device: where the networks run.
    :param segmenter: a module mapping float [B, 3, H, W] in [0, 1] to logits [B, 19, H, W], or None.
    :param batch_size: images per forward pass of the networks (:func:`metric_batch_size`: 1 on the
        CPU, where batches are slower and every image is cached on its own; larger on a GPU).
    """

    def __init__(
        self,
        metrics: Sequence[str],
        samples: Sequence[Sample],
        device: torch.device,
        segmenter: torch.nn.Module | None,
        batch_size: int = 1,
    ) -> None:
        self.samples = samples
        self.batch_size = batch_size
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
        self.miou_reference: str | None = None
        """What mIoU is measured against: ``labels`` (the ground truth) or, on a source without
        labels, ``segmenter`` (the segmenter's prediction on each original image; None: no mIoU)."""
        if self.miou:
            labelled = all(s.labels is not None for s in samples)
            self.miou_reference = "labels" if labelled else "segmenter"
        if self.miou_reference == "segmenter":
            self.notes.append(
                "miou: the data source has no labels: measured against the segmenter's prediction "
                "on each original image (miou_reference: segmenter; the original reads 1)"
            )
        self._predicted_targets: np.ndarray | None = None
        self.distribution = [m for m in ("fid", "kid") if m in metrics]
        self._features: DistributionMetrics | None = (
            DistributionMetrics(device=device) if self.distribution else None
        )
        self._cache: dict[tuple[tuple[int, bytes], ...], list[ImageScore]] = {}
        self._feature_cache: dict[tuple[bytes, ...], torch.Tensor] = {}
        self._reference_features: torch.Tensor | None = None
        self._prepared: dict[tuple[str, tuple[int, ...]], list[torch.Tensor]] = {}
        self._prepared_bytes = 0
        self._prepared_lock = threading.Lock()

    def _chunks(self, count: int) -> list[range]:
        """Positions 0..count-1 in consecutive batches of :attr:`batch_size`."""
        size = self.batch_size
        return [range(i, min(i + size, count)) for i in range(0, count, size)]

    def _score_batch(
        self, indices: Sequence[int], images: Sequence[np.ndarray]
    ) -> list[ImageScore]:
        """Score reconstructions ``images[j]`` (uint8 [H, W, 3]) of samples ``indices[j]``, one
        forward pass of each network for all of them."""
        ref = to_tensor([self.samples[i].image for i in indices], self.device)
        rec = to_tensor(images, self.device)
        columns = {
            name: self._metric(name, indices, ref, rec).tolist() for name in self.image_metrics
        }
        confusions: list[np.ndarray | None] = [None] * len(indices)
        if self.miou:
            pred = self.segmenter(rec).argmax(1).cpu()
            labels = self.miou_targets(indices).astype(np.int64)
            confusions = list(confusion_matrix(pred, torch.from_numpy(labels), NUM_CLASSES).numpy())
        scores = []
        for j, confusion in enumerate(confusions):
            values = {name: float(column[j]) for name, column in columns.items()}
            if confusion is not None:
                values["miou"] = ConfusionMatrix.from_matrix(confusion).miou()
            scores.append(ImageScore(values, confusion))
        return scores

    def _metric(
        self, name: str, indices: Sequence[int], ref: torch.Tensor, rec: torch.Tensor
    ) -> torch.Tensor:
        """Metric ``name`` [B] of ``rec`` against ``ref`` (the references of samples ``indices``):
        a :class:`ReferenceMetric` compares against its references prepared once (the same
        numbers as ``metric(ref, rec)``)."""
        metric = self.image_metrics[name]
        if not isinstance(metric, ReferenceMetric):
            return metric(ref, rec)
        key = (name, tuple(indices))
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = metric.reference(ref)
            size = sum(t.numel() * t.element_size() for t in prepared)
            with self._prepared_lock:  # batches of other samples are prepared beside this one
                if self._prepared_bytes + size <= REFERENCE_CACHE_BYTES:
                    self._prepared[key] = prepared
                    self._prepared_bytes += size
        return metric.compare(prepared, rec)

    def miou_targets(self, indices: Sequence[int]) -> np.ndarray:
        """uint8 [B, H, W] what the segmentation of samples ``indices`` is scored against: their
        labels (:attr:`miou_reference` ``labels``) or the segmenter's prediction on each original
        image (``segmenter``, predicted for every sample once, by :meth:`_predict_targets`)."""
        if self.miou_reference == "labels":
            return np.stack([self.samples[i].labels for i in indices])
        self._predict_targets()
        return self._predicted_targets[list(indices)]

    def _predict_targets(self) -> None:
        """The segmenter's prediction on every original image, once, in the batches by position and
        on the threads that a point's reconstructions are scored in, so an unchanged image scores
        exactly 1."""
        if self.miou_reference != "segmenter" or self._predicted_targets is not None:
            return
        originals = [s.image for s in self.samples]
        jobs = [
            partial(
                segment_images,
                self.segmenter,
                [originals[j] for j in chunk],
                self.device,
                self.batch_size,
            )
            for chunk in self._chunks(len(originals))
        ]
        self._predicted_targets = np.concatenate(self._parallel(jobs))

    def _parallel(self, jobs: Sequence[Callable[[], _T]]) -> list[_T]:
        """The results of ``jobs``, in inference mode, two side by side on the CPU within torch's
        threads (:func:`~simulator.link.threads.map_side_by_side`); on a GPU one after another."""
        threads = torch.get_num_threads() if self.device.type == "cpu" else 1
        return map_side_by_side([partial(_without_autograd, job) for job in jobs], threads)

    def _inception_jobs(
        self, images: Sequence[np.ndarray], digests: Sequence[bytes]
    ) -> dict[tuple[bytes, ...], Callable[[], torch.Tensor]]:
        """Inception pool3 features ([B, 2048]) still to compute for the batches of ``images``,
        keyed by the batch's contents (``digests``: their SHA-1s)."""
        jobs = {}
        for chunk in self._chunks(len(images)):
            key = tuple(digests[j] for j in chunk)
            if key not in self._feature_cache:
                batch = [images[j] for j in chunk]
                jobs[key] = partial(self._inception_batch, batch)
        return jobs

    def _inception_batch(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """2048-d Inception pool3 features [B, 2048] of uint8 [H, W, 3] ``images``."""
        return self._features.features(to_tensor(images, self.device))

    def _inception(self, digests: Sequence[bytes]) -> torch.Tensor:
        """The cached features [N, 2048] of the images whose SHA-1s are ``digests``."""
        chunks = self._chunks(len(digests))
        return torch.cat([self._feature_cache[tuple(digests[j] for j in c)] for c in chunks])

    @torch.inference_mode()
    def score_point(self, images: Sequence[np.ndarray]) -> PointScores:
        """Score all reconstructions of a point (``images[i]`` reconstructs sample ``i``).

        The images go through the networks in consecutive batches of :attr:`batch_size` by
        position, and a batch's results are cached by its (sample, content) pairs: what an image
        scores depends only on the point's own images, never on what this scorer saw before, so
        results are identical whatever the executor, the worker or the order of the points. On the
        CPU the batches not yet cached run two side by side, each on half of torch's threads
        (:mod:`simulator.link.threads`).
        """
        digests = [image_digest(im) for im in images]
        keys = list(enumerate(digests))
        batches = [(tuple(keys[j] for j in chunk), chunk) for chunk in self._chunks(len(images))]
        jobs: dict[tuple, Callable[[], object]] = {}
        for key, chunk in batches:
            if key not in self._cache:
                jobs[key] = partial(self._score_batch, list(chunk), [images[j] for j in chunk])
        features: dict[tuple[bytes, ...], Callable[[], object]] = {}
        if self._features is not None:
            self._features.load()  # before the threads, which share it
            if self._reference_features is None:
                references = [s.image for s in self.samples]
                reference_digests = list(map(image_digest, references))
                features.update(self._inception_jobs(references, reference_digests))
            features.update(self._inception_jobs(images, digests))
        self._predict_targets()
        results = self._parallel([*jobs.values(), *features.values()])
        self._cache.update(zip(jobs, results[: len(jobs)], strict=True))
        self._feature_cache.update(zip(features, results[len(jobs) :], strict=True))
        scores = [score for key, _ in batches for score in self._cache[key]]
        summary: dict[str, float | str] = {}
        for name in self.image_metrics:
            summary[name] = _finite_mean([s.values[name] for s in scores])
        if self.miou:
            total = sum(s.confusion for s in scores)
            summary["miou"] = ConfusionMatrix.from_matrix(total).miou()
            summary["miou_reference"] = self.miou_reference
        if self._features is not None:
            if self._reference_features is None:
                self._reference_features = self._inception(reference_digests)
            rec = self._inception(digests)
            dist = self._features.compute_from_features(self._reference_features, rec)
            for name in self.distribution:
                summary[name] = dist[name]
        return PointScores([s.values for s in scores], summary)


def _without_autograd(job: Callable[[], _T]) -> _T:
    """``job()`` in inference mode, which is per thread: a worker thread enters it itself."""
    with torch.inference_mode():
        return job()


def _finite_mean(values: Sequence[float]) -> float:
    """Mean of the values; PSNR of a perfect image is capped upstream, so NaN only means 'not computed'."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
