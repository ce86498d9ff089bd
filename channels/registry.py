"""Channel models by name: the built-in ones and ``"package.module:ClassName"`` references.

Adding a built-in channel = one file that decorates its class with :func:`register_channel` and one line
in :data:`_BUILTIN_MODULES`. A custom channel needs neither: any class whose constructor takes its
parameters as keywords and whose instances are called as ``channel(x, no) -> (y, h)`` (or
``(y, h, err_var)``) is used by reference; it need not subclass anything.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from channels.base import Channel, check_channel
from channels.errors import ChannelConfigError
from source_codecs.plugins import did_you_mean, load_reference

__all__ = [
    "available_channels",
    "channel_class",
    "channel_parameters",
    "check_channel_params",
    "make_channel",
    "register_channel",
]

_BUILTIN_MODULES = (
    "channels.awgn",
    "channels.rayleigh",
    "channels.rician",
    "channels.ofdm.channel",
)

_REGISTRY: dict[str, type] = {}

T = TypeVar("T", bound=type)


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


def channel_class(model: str) -> type:
    """The class of a registered ``model`` or of a ``"package.module:ClassName"`` reference.

    :raises ChannelConfigError: one line: an unknown name (listing the names, suggesting the nearest),
        a module that does not import, or a reference that names no class.
    """
    _load_builtins()
    if model in _REGISTRY:
        return _REGISTRY[model]
    if ":" not in model:
        names = sorted(_REGISTRY)
        raise ChannelConfigError(
            f"unknown model '{model}'; choose from {', '.join(names)}, "
            f'or "package.module:ClassName"{did_you_mean(model, names)}'
        )
    found = load_reference(model, "model", ChannelConfigError)
    if not inspect.isclass(found):
        raise ChannelConfigError(
            f"'{model}' is a {type(found).__name__}, not a class: a channel is a class whose "
            "instances are called as channel(x, no) -> (y, h)"
        )
    return found


def channel_parameters(cls: type) -> tuple[list[inspect.Parameter], bool]:
    """Keyword parameters of ``cls.__init__`` and whether it accepts any other (``**kwargs``)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return named, any(p.kind is p.VAR_KEYWORD for p in params)


def check_channel_params(model: str, params: dict[str, Any] | None) -> None:
    """Check that the constructor of ``model`` takes every name in ``params``, without building it.

    :raises ChannelConfigError: unknown model or parameter (the message lists the allowed ones and
        suggests the nearest).
    """
    if params is not None and not isinstance(params, dict):
        raise ChannelConfigError(f"params of model '{model}' must be a mapping, got {params!r}")
    named, open_kwargs = channel_parameters(channel_class(model))
    if open_kwargs:
        return
    allowed = [p.name for p in named]
    unknown = [k for k in params or {} if k not in allowed]
    if unknown:
        listed = ", ".join(allowed) if allowed else "none"
        raise ChannelConfigError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for model '{model}'; allowed: {listed}{did_you_mean(unknown[0], allowed)}"
        )


def make_channel(model: str, params: dict[str, Any] | None = None) -> Channel:
    """Build the channel ``model`` with ``params`` as keyword arguments.

    A ``"package.module:ClassName"`` channel is also called once on a small test input
    (:func:`~channels.base.check_channel`), so that a wrong return shape is reported here.

    :param model: a registered name (see :func:`available_channels`) or ``"package.module:ClassName"``.
    :param params: constructor keyword arguments.
    :raises ChannelConfigError: one line: unknown model, unknown parameter, invalid parameter value, a
        custom channel whose constructor fails, whose instances are not callable or whose outputs do
        not have the contract's shapes.
    """
    check_channel_params(model, params)
    cls, custom = channel_class(model), ":" in model
    try:
        channel = cls(**dict(params or {}))
    except (TypeError, ValueError) as exc:
        raise ChannelConfigError(f"invalid params for model '{model}': {exc}") from None
    except Exception as exc:  # noqa: BLE001 - only a custom channel's constructor lands here
        if not custom:
            raise
        raise ChannelConfigError(
            f"constructing '{model}' failed: {type(exc).__name__}: {exc}"
        ) from None
    if custom:
        try:
            check_channel(channel)
        except ValueError as exc:
            raise ChannelConfigError(f"'{model}': {exc}") from None
    return channel
