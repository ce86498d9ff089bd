"""The scale hyperprior's model zoo: one row per rate point (:mod:`source_codecs.zoo`)."""

from __future__ import annotations

__all__ = ["RATES", "RESIDUAL", "VARIABLE_MODEL", "ZOO", "RatePoint", "shipped_weights"]

from dataclasses import dataclass
from pathlib import Path

from source_codecs.zoo import ZooEntry, find, names

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class RatePoint(ZooEntry):
    """One rate point of the hyperprior.

    :param lmbda: lambda of its training loss, lambda * 255^2 * MSE + bpp (CompressAI's values for
        its qualities 1, 4 and 6).
    """

    lmbda: float = 0.0


ZOO: tuple[RatePoint, ...] = tuple(
    RatePoint(name, WEIGHTS_DIR / f"hyperprior_{name}.pt", lmbda=lmbda)
    for name, lmbda in (("q1", 0.0018), ("q2", 0.013), ("q3", 0.0483))
)
"""Lowest rate first; a row's index + 1 is its tag in the bitstream."""

RESIDUAL = RatePoint("residual", WEIGHTS_DIR / "hyperprior_residual.pt")
"""The model of the ``hyperprior_residual`` codec (rate-controlled by its quantiser step, so one
model; its training options are in the weights file's info)."""

VARIABLE_MODEL = RatePoint("variable", WEIGHTS_DIR / "hyperprior_variable.pt")
"""The variable-rate model of ``hyperprior`` (``rate: variable``): one model with gain units over a
set of lambdas (``train.py --levels``; its lambdas are in the weights file's info). Not shipped
until trained: the codec refuses ``rate: variable`` while the file is missing."""

RATES: tuple[str, ...] = names(ZOO)


def shipped_weights(rate: str) -> Path:
    """Path of the shipped weights of rate point ``rate`` (or ``residual``: :data:`RESIDUAL`,
    ``variable``: :data:`VARIABLE_MODEL`)."""
    return find((*ZOO, RESIDUAL, VARIABLE_MODEL), rate).weights
