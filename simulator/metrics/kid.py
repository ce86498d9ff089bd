r"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel (Bińkowski et al., 2018).

.. math::
    k(x, y) = (x^\top y / d + 1)^3, \qquad
    \widehat{\mathrm{MMD}}^2 = \frac{\sum_{i \ne j} k(x_i, x_j) + \sum_{i \ne j} k(y_i, y_j)}{m(m-1)}
        - \frac{2}{m^2} \sum_{i, j} k(x_i, y_j)

averaged over random subsets of ``m`` features from each set (drawn without replacement), as in the
reference implementation and in torch-fidelity / clean-fid. Its expectation is the true MMD^2, 0 for
two samples of one distribution, so an estimate can be slightly negative.

That estimator assumes the two sets are independent. The simulator's are *paired*: reconstruction
``y_i`` is made from reference ``x_i``, and the cross terms ``k(x_i, y_i)`` are then far larger than
for independent draws (for a perfect link, ``y_i = x_i`` and the estimate above is strongly
negative). With ``paired=True`` both sets are subsampled with the same indices and the ``i = j``
cross terms are left out, ``- 2 / (m(m-1)) \sum_{i \ne j} k(x_i, y_j)``: Gretton's U-statistic over
the pairs, unbiased for paired and independent samples alike, and exactly 0 when ``y = x``.
"""

from __future__ import annotations

__all__ = ["kernel_inception_distance", "polynomial_kernel", "polynomial_mmd2"]

import math

import torch

MAX_KERNEL_ENTRIES = 2**24
"""Above this many kernel entries (float64: 128 MB) the kernels are computed per subset, not once."""


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """k(a_i, b_j) = (a_i . b_j / d + 1)^3 for ``a`` [n, d], ``b`` [m, d] -> float64 [n, m]."""
    return (a.double() @ b.double().T / a.shape[1] + 1.0) ** 3


def _mmd2(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor, paired: bool) -> torch.Tensor:
    """MMD^2 estimate from the three [m, m] kernel matrices of one subset."""
    m = k_xx.shape[0]
    within = (k_xx.sum() - k_xx.trace() + k_yy.sum() - k_yy.trace()) / (m * (m - 1))
    cross = (k_xy.sum() - k_xy.trace()) / (m * (m - 1)) if paired else k_xy.sum() / m**2
    return within - 2.0 * cross


def polynomial_mmd2(x: torch.Tensor, y: torch.Tensor, paired: bool = False) -> float:
    """MMD^2 estimate between two samples ``x``, ``y`` [m, d], m >= 2 (see the module docstring).

    :param x: [m, d] features.
    :param y: [m, d] features; with ``paired``, ``y[i]`` belongs with ``x[i]``.
    :param paired: Leave out the ``i = j`` cross terms (U-statistic over pairs).
    :return: The estimate (float).
    """
    kernels = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return float(_mmd2(*kernels, paired=paired))


def kernel_inception_distance(
    features1: torch.Tensor,
    features2: torch.Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    paired: bool = False,
    seed: int = 0,
) -> float:
    """KID between two feature sets: the mean MMD^2 estimate over random subsets.

    :param features1: [n_1, d] features (e.g. Inception pool3 of the reference images).
    :param features2: [n_2, d] features of the other set (n_2 = n_1 when ``paired``).
    :param subsets: Number of subsets averaged.
    :param subset_size: Features per subset and set; reduced to ``min(n_1, n_2)`` when larger.
    :param paired: ``features2[i]`` is a reconstruction of the image of ``features1[i]``: draw both
        subsets with the same indices and use the paired U-statistic (module docstring).
    :param seed: Seed of the subset draws (a private generator: the global RNG is untouched).
    :return: KID (dimensionless; papers often quote it x1000, it is returned as is); NaN if either set
        has fewer than 2 features.
    """
    n1, n2 = features1.shape[0], features2.shape[0]
    if paired and n1 != n2:
        raise ValueError(
            f"kernel_inception_distance: paired sets must be equally long, got {n1} and {n2}"
        )
    m = min(subset_size, n1, n2)
    if m < 2:
        return math.nan
    x, y = features1.double(), features2.to(features1.device).double()
    if n1 * n1 + n2 * n2 + n1 * n2 <= MAX_KERNEL_ENTRIES:
        k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)

        def kernels(i: torch.Tensor, j: torch.Tensor) -> tuple[torch.Tensor, ...]:
            return k_xx[i][:, i], k_yy[j][:, j], k_xy[i][:, j]
    else:

        def kernels(i: torch.Tensor, j: torch.Tensor) -> tuple[torch.Tensor, ...]:
            return (
                polynomial_kernel(x[i], x[i]),
                polynomial_kernel(y[j], y[j]),
                polynomial_kernel(x[i], y[j]),
            )

    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    for _ in range(subsets):
        i = torch.randperm(n1, generator=generator)[:m].to(x.device)
        j = i if paired else torch.randperm(n2, generator=generator)[:m].to(x.device)
        total = total + _mmd2(*kernels(i, j), paired=paired)
    return float(total / subsets)
