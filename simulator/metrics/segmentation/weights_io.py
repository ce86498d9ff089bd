"""Reading and writing a trained :class:`Segmenter`: architecture, weights and how they were made."""

from __future__ import annotations

__all__ = ["load_weights", "save_weights"]

from pathlib import Path
from typing import Any

import torch

from simulator.metrics.segmentation.model import Segmenter, SegmenterConfig


def save_weights(path: str | Path, model: Segmenter, meta: dict[str, Any]) -> None:
    """Write ``{"config", "state_dict", "meta"}`` to ``path`` (fp32 tensors, a few hundred kB).

    :param path: Destination ``.pt`` file; its folder is created.
    :param model: The trained network.
    :param meta: JSON-like record of the training (command, steps, time, loss, val mIoU).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().float() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"config": model.config.to_dict(), "state_dict": state, "meta": meta}, tmp)
    tmp.replace(path)


def load_weights(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[Segmenter, dict[str, Any]]:
    """Rebuild the network stored by :func:`save_weights`, in eval mode.

    :param path: A file written by :func:`save_weights`.
    :param device: Where to put the network.
    :return: The network and its training record.
    :raises FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"segmenter weights not found: {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = Segmenter(SegmenterConfig.from_dict(blob["config"]))
    model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    return model.to(device).eval(), blob.get("meta", {})
