"""Codecs by name: the built-in ones are imported on first use, others register with a decorator.

Adding a codec is one file (a :class:`SourceCodec` or :class:`AnalogCodec` subclass decorated with
``@register_codec("name")``) and one line in ``_BUILTIN`` below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from source_codecs.base import CodecBase
from source_codecs.errors import CodecConfigError

__all__ = ["available_codecs", "codec_class", "make_codec", "register_codec"]

# name -> module that defines it; imported only when the codec is asked for.
_BUILTIN: dict[str, str] = {
    "original": "source_codecs.original",
    "jpeg": "source_codecs.jpeg",
    "webp": "source_codecs.webp",
    "jpeg2000": "source_codecs.jpeg2000",
    "bpg": "source_codecs.bpg",
    "vvc": "source_codecs.vvc",
    "avif": "source_codecs.avif",
    "jpegxl": "source_codecs.jpegxl",
    "semantic_gan": "source_codecs.semantic_gan.codec",
    "hyperprior": "source_codecs.hyperprior.codec",
    "hyperprior_residual": "source_codecs.hyperprior.residual_codec",
    "deepjscc": "source_codecs.deepjscc.codec",
}

_REGISTERED: dict[str, type[CodecBase]] = {}

C = TypeVar("C", bound=type[CodecBase])


def register_codec(name: str) -> Callable[[C], C]:
    """Class decorator: make a codec class (a :class:`SourceCodec` or an
    :class:`~source_codecs.AnalogCodec`) available as ``name``.

    Registering the same class again (e.g. its module imported once more) is harmless; a different
    class under a taken name raises ``ValueError``.
    """

    def decorate(cls: C) -> C:
        previous = _REGISTERED.get(name)
        if previous is not None and _qualified(previous) != _qualified(cls):
            raise ValueError(f"codec name '{name}' is taken by {_qualified(previous)}")
        cls.name = name
        _REGISTERED[name] = cls
        return cls

    return decorate


def available_codecs() -> list[str]:
    """The names :func:`make_codec` accepts, sorted."""
    return sorted(set(_BUILTIN) | set(_REGISTERED))


def codec_class(name: str) -> type[CodecBase]:
    """The class registered as ``name``; :class:`CodecConfigError` listing the names if unknown."""
    if name not in _REGISTERED and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
        if name not in _REGISTERED:
            raise RuntimeError(f"module {_BUILTIN[name]} does not register codec '{name}'")
    if name not in _REGISTERED:
        raise CodecConfigError(
            f"unknown codec '{name}'; choose from {', '.join(available_codecs())}"
        )
    return _REGISTERED[name]


def make_codec(name: str, params: Mapping[str, Any] | None = None) -> CodecBase:
    """A codec instance from its name and YAML parameters.

    :raises CodecConfigError: unknown name (the message lists the available ones), or a parameter
        that is unknown or not allowed (the message names it and the allowed values).
    """
    if params is not None and not isinstance(params, Mapping):
        raise CodecConfigError(f"params of codec '{name}' must be a mapping, got {params!r}")
    return codec_class(name)(**dict(params or {}))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
