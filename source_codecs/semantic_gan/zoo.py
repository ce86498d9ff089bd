"""The semantic GAN's model zoo: one row per rate point (:mod:`source_codecs.zoo`).

The rate of each row, measured, is in the README's zoo table and in
``benchmarks/results/rate_perception_200.md``.
"""

from __future__ import annotations

__all__ = ["RATES", "ZOO", "RatePoint", "shipped_weights"]

from dataclasses import dataclass
from pathlib import Path

from source_codecs.zoo import ZooEntry, find, names

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class RatePoint(ZooEntry):
    """One rate point of the semantic GAN.

    :param latent_channels: C, channels of the quantised latent at 1/16 resolution; with L = 5
        centres the raw latent costs C * log2(5) / 256 bpp before entropy coding (0.018, 0.036,
        0.073 for C = 2, 4, 8), without the map.
    :param map_weights: map factors (1 / resolution) with weights of their own, trained on maps at
        that resolution (``semantic_gan_<rate>_map<factor>.pt``), besides :attr:`weights`, trained
        at the rate point's own resolution; a stream whose map is coded at one of these is encoded
        and decoded by them.
    """

    latent_channels: int = 2
    map_weights: tuple[int, ...] = ()


ZOO: tuple[RatePoint, ...] = tuple(
    RatePoint(name, WEIGHTS_DIR / f"semantic_gan_{name}.pt", latent_channels=c, map_weights=m)
    for name, c, m in (("low", 2, (2,)), ("mid", 4, (4,)), ("high", 8, (4,)))
)
"""Lowest rate first; a row's index is its code in the bitstream header (2 bits). ``low`` is
trained on maps at 1/4 (with weights for maps at 1/2 too), ``mid`` and ``high`` on maps at 1/2
(their 1/4-trained weights kept for ``map_scale: 0.25``)."""

RATES: tuple[str, ...] = names(ZOO)


def shipped_weights(rate: str, map_factor: int | None = None) -> Path:
    """Path of the shipped weights of rate point ``rate``: those trained on maps at 1 /
    ``map_factor`` where :attr:`RatePoint.map_weights` has them, else the rate point's own."""
    point = find(ZOO, rate)
    if map_factor in point.map_weights:
        return point.weights.with_name(f"{point.weights.stem}_map{map_factor}.pt")
    return point.weights
