r"""Fréchet distance between Gaussians fitted to feature sets (FID on Inception features).

.. math::
    d^2 = \lVert\mu_1 - \mu_2\rVert^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
          - 2 \operatorname{tr}\big(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\big)^{1/2}

(Heusel et al., 2017), with the sample means and the unbiased sample covariances (``n - 1``). Two
routes compute the last trace, both in float64:

- :func:`frechet_distance` from the statistics: symmetric eigen-decompositions of the d x d matrices
  (d = 2048: tens of seconds on two CPU cores);
- :func:`frechet_distance_from_features` from the features themselves, exact and fast while
  ``n << d``: with centred features ``A = (F_1 - \mu_1)/\sqrt{n_1 - 1}`` and likewise ``B``,
  :math:`\Sigma_1 = A^\top A`, :math:`\Sigma_2 = B^\top B`, and the trace is the nuclear norm
  :math:`\lVert A B^\top\rVert_*` of an n_1 x n_2 matrix.

FID from few images is strongly biased upwards (the bias falls roughly as 1/n): compare FIDs only
between runs with the same number of images, and report KID beside it.
"""

from __future__ import annotations

__all__ = ["frechet_distance", "frechet_distance_from_features", "mean_and_covariance"]

import math

import torch


def mean_and_covariance(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample mean [d] and unbiased covariance [d, d] (float64) of ``features`` [n, d], n >= 2."""
    f = features.double()
    return f.mean(0), torch.cov(f.T, correction=1)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues -> 0)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def _combine(
    mean_term: torch.Tensor, trace1: torch.Tensor, trace2: torch.Tensor, cross: torch.Tensor
) -> float:
    """Assemble d^2 from its four terms; clip rounding noise below zero."""
    return max(float(mean_term + trace1 + trace2 - 2.0 * cross), 0.0)


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    :param mu1: Mean [d].
    :param sigma1: Covariance [d, d], symmetric positive semi-definite.
    :param mu2: Mean [d].
    :param sigma2: Covariance [d, d].
    :return: The distance (FID when the statistics are those of Inception pool3 features), >= 0.
    """
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    root1 = _sqrt_psd(sigma1)
    inner = root1 @ sigma2 @ root1
    cross = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()
    return _combine((mu1 - mu2).square().sum(), sigma1.trace(), sigma2.trace(), cross)


def frechet_distance_from_features(features1: torch.Tensor, features2: torch.Tensor) -> float:
    """Squared Fréchet distance between Gaussians fitted to two feature sets (FID of two image sets).

    Same value as ``frechet_distance(*mean_and_covariance(features1), *mean_and_covariance(features2))``,
    computed through the nuclear norm of the n_1 x n_2 cross-Gram matrix (see the module docstring).

    :param features1: [n_1, d], any float dtype, n_1 >= 2.
    :param features2: [n_2, d], n_2 >= 2.
    :return: The distance; NaN if either set has fewer than 2 rows (no covariance).
    """
    if features1.shape[0] < 2 or features2.shape[0] < 2:
        return math.nan
    f1, f2 = features1.double(), features2.double()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    a = (f1 - mu1) / math.sqrt(f1.shape[0] - 1)
    b = (f2 - mu2) / math.sqrt(f2.shape[0] - 1)
    cross = torch.linalg.svdvals(_row_reduce(a) @ _row_reduce(b).T).sum()
    return _combine((mu1 - mu2).square().sum(), a.square().sum(), b.square().sum(), cross)


def _row_reduce(a: torch.Tensor) -> torch.Tensor:
    """A matrix R with R^T R = a^T a and at most d rows (the R of a QR factorisation when n > d)."""
    if a.shape[0] <= a.shape[1]:
        return a
    return torch.linalg.qr(a, mode="r").R
