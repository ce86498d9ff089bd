"""Channel models by name: the built-in ones and ``"package.module:ClassName"`` references.

Adding a built-in channel = one file that decorates its class with :func:`register_channel` and one line
in :data:`_BUILTIN_MODULES`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from channels.errors import ChannelConfigError

__all__ = ["available_channels", "make_channel", "register_channel"]

_BUILTIN_MODULES = (
    "channels.awgn",
    "channels.rayleigh",
    "channels.rician",
    "channels.ofdm.channel",
)

_REGISTRY: dict[str, type[torch.nn.Module]] = {}

T = TypeVar("T", bound=type[torch.nn.Module])


def register_channel(name: str) -> Callable[[T], T]:
    """Class decorator: make a channel available as ``model: name``."""

    def decorate(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"channel name '{name}' is already registered by {_REGISTRY[name]}")
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def available_channels() -> list[str]:
    """Names of the registered channel models, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def _resolve(model: str) -> type[torch.nn.Module]:
    _load_builtins()
    if model in _REGISTRY:
        return _REGISTRY[model]
    if ":" not in model:
        raise ChannelConfigError(
            f"unknown model '{model}'; choose from {', '.join(sorted(_REGISTRY))}, "
            'or "package.module:ClassName"'
        )
    module_name, _, class_name = model.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ChannelConfigError(
            f"cannot import module '{module_name}' of '{model}': {exc}"
        ) from None
    cls = getattr(module, class_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, torch.nn.Module)):
        raise ChannelConfigError(
            f"'{model}': module '{module_name}' has no torch.nn.Module class '{class_name}'"
        )
    return cls


def _allowed_params(cls: type) -> tuple[list[str], bool]:
    """Keyword parameters of ``cls.__init__`` and whether it accepts ``**kwargs``."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def make_channel(model: str, params: dict[str, Any] | None = None) -> torch.nn.Module:
    """Build the channel ``model`` with ``params`` as keyword arguments.

    :param model: a registered name (see :func:`available_channels`) or ``"package.module:ClassName"``.
    :param params: constructor keyword arguments.
    :raises ChannelConfigError: unknown model, unknown parameter or invalid parameter value.
    """
    params = dict(params or {})
    cls = _resolve(model)
    allowed, open_kwargs = _allowed_params(cls)
    unknown = [k for k in params if k not in allowed]
    if unknown and not open_kwargs:
        listed = ", ".join(allowed) if allowed else "none"
        raise ChannelConfigError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for model '{model}'; allowed: {listed}"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ChannelConfigError(f"invalid params for model '{model}': {exc}") from None
