"""Bring your own segmenter: a TorchScript network whose classes are mapped onto the 19 trainIds."""

from __future__ import annotations

__all__ = ["ClassMappedSegmenter", "load_torchscript_segmenter", "parse_class_map"]

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from simulator.data.base import CITYSCAPES_CLASSES, IGNORE_INDEX, NUM_CLASSES

ClassMap = Sequence[int | str | None] | Mapping[int, int | str | None]


def _train_id(value: int | str | None, where: str) -> int:
    """A trainId (0-18), a Cityscapes class name, or None / 255 (dropped) -> int."""
    if value is None:
        return IGNORE_INDEX
    if isinstance(value, str):
        if value not in CITYSCAPES_CLASSES:
            raise ValueError(f"class_map[{where}]: unknown class '{value}'")
        return CITYSCAPES_CLASSES.index(value)
    if not (0 <= int(value) < NUM_CLASSES or int(value) == IGNORE_INDEX):
        raise ValueError(f"class_map[{where}]: {value} is not a trainId (0-18) or 255")
    return int(value)


def parse_class_map(class_map: ClassMap, num_outputs: int | None = None) -> list[int]:
    """Normalise a class map to a list: entry ``i`` is the trainId of the network's output ``i``.

    :param class_map: A list (``class_map[i]`` = trainId of output channel ``i``) or a dict
        ``{output channel: trainId}``; a trainId is an int 0-18, a Cityscapes class name, or
        ``None`` / ``255`` for an output that maps to no evaluated class. Outputs missing from a
        dict are dropped.
    :param num_outputs: Number of output channels (required for a dict).
    :return: A list of ints in 0-18 or 255.
    :raises ValueError: An entry is not a trainId or an output index is out of range.
    """
    if isinstance(class_map, Mapping):
        if num_outputs is None:
            raise ValueError("a dict class_map needs the number of output channels")
        ids = [IGNORE_INDEX] * num_outputs
        for key, value in class_map.items():
            if not 0 <= int(key) < num_outputs:
                raise ValueError(f"class_map: output {key} out of range 0..{num_outputs - 1}")
            ids[int(key)] = _train_id(value, str(key))
        return ids
    ids = [_train_id(v, str(i)) for i, v in enumerate(class_map)]
    if num_outputs is not None and len(ids) != num_outputs:
        raise ValueError(f"class_map has {len(ids)} entries for {num_outputs} output channels")
    return ids


class ClassMappedSegmenter(nn.Module):
    """Wraps a segmenter with its own label set so that it outputs 19 Cityscapes trainId logits.

    The logit of a trainId is the log-sum-exp of the logits of the network outputs mapped to it
    (the log of the summed probabilities, up to a constant); a trainId that no output maps to gets
    a very low logit. Outputs mapped to 255 are left out, so the prediction of a pixel is the most
    likely of the *evaluated* classes. Logits are resized bilinearly to the input size.

    :param network: Maps float32 [B, 3, H, W] RGB in [0, 1] to logits [B, C, h, w] (a tensor,
        a tuple whose first item is that tensor, or a dict with key ``"out"``). Any input
        normalisation must be part of the network.
    :param class_map: See :func:`parse_class_map`; list length or dict keys define ``C``.
    :param num_outputs: ``C``, needed for a dict class map.

    :input images: [B, 3, H, W], torch.float32 in [0, 1]
    :output logits: [B, 19, H, W], torch.float32
    """

    def __init__(
        self, network: nn.Module, class_map: ClassMap, num_outputs: int | None = None
    ) -> None:
        super().__init__()
        self.network = network
        ids = parse_class_map(class_map, num_outputs)
        if all(t == IGNORE_INDEX for t in ids):
            raise ValueError("class_map maps no output to an evaluated class")
        self.num_outputs = len(ids)
        # sources[t]: the output channels that belong to trainId t.
        self.sources = [
            [c for c, t in enumerate(ids) if t == train_id] for train_id in range(NUM_CLASSES)
        ]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.network(images)
        if isinstance(out, dict):
            out = out["out"]
        elif isinstance(out, (tuple, list)):
            out = out[0]
        if out.shape[1] != self.num_outputs:
            raise ValueError(
                f"network returned {out.shape[1]} channels; class_map describes {self.num_outputs}"
            )
        out = out.float()
        low = torch.full_like(out[:, 0], torch.finfo(out.dtype).min / 4)
        logits = torch.stack(
            [torch.logsumexp(out[:, idx], dim=1) if idx else low for idx in self.sources], dim=1
        )
        return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


def load_torchscript_segmenter(
    path: str | Path,
    class_map: ClassMap,
    device: str | torch.device = "cpu",
    num_outputs: int | None = None,
) -> ClassMappedSegmenter:
    """Load a TorchScript segmenter and map its classes onto the 19 trainIds.

    :param path: A file written by ``torch.jit.save``.
    :param class_map: See :func:`parse_class_map`.
    :param device: Where to load the network.
    :param num_outputs: Number of output channels, needed when ``class_map`` is a dict.
    :return: A module in eval mode mapping [B, 3, H, W] in [0, 1] to logits [B, 19, H, W].
    :raises FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TorchScript segmenter not found: {path}")
    network = torch.jit.load(str(path), map_location=device)
    return ClassMappedSegmenter(network, class_map, num_outputs).to(device).eval()
