"""The fp16 weights files of the learned codecs: a config, a state dict and how it was made.

A weights file is ``torch.save({"config": dict, "state_dict": {name: tensor}, "info": dict})``:
every tensor fp16 on the CPU except the few named at export (entropy-model quantiles, symbol
statistics), which stay float32 because the entropy coder needs them exactly. It loads with
``torch.load(weights_only=True)``; :func:`load_model` rebuilds the model in float32, eval mode.

>>> export_weights(path, model.config, model.state_dict(), {"steps": 1000})
>>> model = load_model(path, lambda config: MyModel(MyConfig(**config)))
"""

from __future__ import annotations

__all__ = ["export_weights", "load_model"]

from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

ModelT = TypeVar("ModelT", bound=nn.Module)


def export_weights(
    path: Path,
    config: Any,
    state_dict: Mapping[str, torch.Tensor],
    info: dict[str, Any] | None = None,
    *,
    float32: Collection[str] = (),
) -> None:
    """Write a weights file.

    :param path: Destination ``.pt`` file.
    :param config: The model's configuration, a dataclass instance (stored as a dict).
    :param state_dict: The model's tensors, any dtype and device.
    :param info: JSON-like record of how the weights were made (steps, options); ``{}`` if None.
    :param float32: Names of the tensors stored float32 instead of fp16.
    """
    state = {
        name: tensor.detach().to("cpu", torch.float32 if name in float32 else torch.float16)
        for name, tensor in state_dict.items()
    }
    torch.save({"config": asdict(config), "state_dict": state, "info": info or {}}, path)


def load_model(
    path: Path, build: Callable[[dict[str, Any]], ModelT], device: str | torch.device = "cpu"
) -> ModelT:
    """A model from a weights file written by :func:`export_weights`.

    :param path: The weights file.
    :param build: Makes the untrained model from the stored config dict.
    :param device: Where to put the model.
    :return: The model, float32 tensors, in eval mode on ``device``.
    """
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build(saved["config"])
    model.load_state_dict({k: v.float() for k, v in saved["state_dict"].items()})
    return model.to(device).eval()
