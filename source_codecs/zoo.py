"""Model zoos of the learned codecs: one table of trained models per codec, CompressAI style.

A codec's zoo is a tuple of :class:`ZooEntry` subclasses (each adds the fields its architecture
needs), lowest rate first. Everything that names a rate point (the codec's ``rate`` parameter,
the bitstream's rate code, the trainer's ``--rate``, the weights file) reads it from there.
"""

from __future__ import annotations

__all__ = ["ZooEntry", "find", "names"]

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar


@dataclass(frozen=True)
class ZooEntry:
    """One trained model of a codec.

    :param name: what the codec's ``rate`` parameter and the trainer's ``--rate`` call it.
    :param weights: the shipped fp16 weights file.
    """

    name: str
    weights: Path

    @property
    def checkpoint(self) -> Path:
        """The committed slim training checkpoint beside the weights (``--resume`` it); it is not
        installed with the package."""
        return self.weights.with_suffix(".ckpt")


Entry = TypeVar("Entry", bound=ZooEntry)


def names(zoo: Sequence[ZooEntry]) -> tuple[str, ...]:
    """The rate point names of ``zoo``, in its order."""
    return tuple(entry.name for entry in zoo)


def find(zoo: Sequence[Entry], name: str) -> Entry:
    """The entry of ``zoo`` called ``name``.

    :raises ValueError: no such rate point (the message lists them).
    """
    for entry in zoo:
        if entry.name == name:
            return entry
    raise ValueError(f"unknown rate point {name!r}; choose from {', '.join(names(zoo))}")
