"""Distribution-level fidelity of a set of reconstructions: FID and KID on Inception-v3 features."""

from __future__ import annotations

__all__ = ["DistributionMetrics"]

import math
from collections.abc import Callable

import torch

from simulator.metrics.fid import frechet_distance_from_features
from simulator.metrics.inception import InceptionFeatures, Resize
from simulator.metrics.kid import kernel_inception_distance


class DistributionMetrics:
    """Accumulates Inception features of reference/reconstruction pairs; computes FID and KID.

    FID and KID compare the *distributions* of the two image sets, not image pairs; they need many
    images (FID from a few dozen images is dominated by its upward bias; KID is unbiased but noisy).
    KID uses the paired estimator (:mod:`~simulator.metrics.kid`), since reconstruction ``i`` is made
    from reference ``i``. With fewer than 2 pairs both are NaN (no covariance, no U-statistic).

    The Inception network is loaded on first use (once per device, shared).

    :param device: Where the Inception network runs.
    :param extractor: Another feature space: a callable mapping images float32 [B, 3, H, W] in
        [0, 1] to features [B, d]. ``None`` (default): Inception-v3 pool3, which FID and KID are
        defined on.
    :param resize: Preprocessing resize, see :class:`~simulator.metrics.inception.InceptionFeatures`.
    :param kid_subsets: Number of KID subsets.
    :param kid_subset_size: Pairs per KID subset (at most the number of pairs).
    :param seed: Seed of the KID subset draws.

    Example:
        >>> metrics = DistributionMetrics(device="cpu")
        >>> metrics.update(ref, rec)  # float32 [B, 3, H, W] in [0, 1], any number of calls
        >>> metrics.compute()
        {'fid': ..., 'kid': ..., 'n_images': ...}
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        extractor: Callable[[torch.Tensor], torch.Tensor] | None = None,
        resize: Resize = "tf_bilinear",
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        seed: int = 0,
    ) -> None:
        self.device = torch.device(device)
        self.resize = resize
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.seed = seed
        self._extractor = extractor
        self._ref: list[torch.Tensor] = []
        self._rec: list[torch.Tensor] = []

    def load(self) -> None:
        """Load the feature network now (else on first use); call it before threads share this
        object, which then only reads it."""
        if self._extractor is None:
            self._extractor = InceptionFeatures(self.device, resize=self.resize)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Features (Inception pool3: float32 [B, 2048] on ``device``) of images [B, 3, H, W] in [0, 1]."""
        self.load()
        return self._extractor(images)

    def update(self, ref: torch.Tensor, rec: torch.Tensor) -> None:
        """Add a batch of pairs: references and reconstructions, float32 [B, 3, H, W] in [0, 1]."""
        if ref.shape[0] != rec.shape[0]:
            raise ValueError(
                f"DistributionMetrics.update: {ref.shape[0]} references but {rec.shape[0]} reconstructions"
            )
        self._ref.append(self.features(ref))
        self._rec.append(self.features(rec))

    def reset(self) -> None:
        """Forget the accumulated features."""
        self._ref, self._rec = [], []

    def compute(self) -> dict[str, float | int]:
        """FID and KID of everything added so far: ``{"fid": float, "kid": float, "n_images": int}``."""
        if not self._ref:
            return {"fid": math.nan, "kid": math.nan, "n_images": 0}
        return self.compute_from_features(torch.cat(self._ref), torch.cat(self._rec))

    def compute_from_features(self, ref: torch.Tensor, rec: torch.Tensor) -> dict[str, float | int]:
        """FID and KID from precomputed features, ref and rec [N, 2048] with ``rec[i]`` made from ``ref[i]``.

        :return: ``{"fid": float, "kid": float, "n_images": N}``; NaN values when N < 2.
        """
        kid = kernel_inception_distance(
            ref, rec, self.kid_subsets, self.kid_subset_size, paired=True, seed=self.seed
        )
        return {
            "fid": frechet_distance_from_features(ref, rec),
            "kid": kid,
            "n_images": int(ref.shape[0]),
        }
