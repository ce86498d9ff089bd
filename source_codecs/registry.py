"""Codecs by name: the built-in ones are imported on first use, others register with a decorator, and
any codec class can be named by reference, ``"package.module:ClassName"``.

Adding a codec is one file (a :class:`SourceCodec` or :class:`AnalogCodec` subclass decorated with
``@register_codec("name")``) and one line in ``_BUILTIN`` below. A plug-in needs neither: a subclass
in an importable module is used as ``make_codec("my_package.my_codec:MyCodec", params)``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from source_codecs.base import CodecBase
from source_codecs.errors import CodecConfigError
from source_codecs.params import Param, resolve_params, unknown_parameter
from source_codecs.plugins import did_you_mean, load_reference
from source_codecs.recipe import CodecRecipe

__all__ = [
    "available_codecs",
    "check_codec_params",
    "codec_class",
    "codec_parameters",
    "codec_recipe",
    "make_codec",
    "register_codec",
]

# name -> module that defines it; imported only when the codec is asked for.
_BUILTIN: dict[str, str] = {
    "original": "source_codecs.classical.original",
    "jpeg": "source_codecs.classical.jpeg",
    "webp": "source_codecs.classical.webp",
    "jpeg2000": "source_codecs.classical.jpeg2000",
    "bpg": "source_codecs.classical.bpg",
    "vvc": "source_codecs.classical.vvc",
    "avif": "source_codecs.classical.avif",
    "jpegxl": "source_codecs.classical.jpegxl",
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
    """The class registered as ``name``, or the class a ``"package.module:ClassName"`` reference
    names.

    :raises CodecConfigError: one line: an unknown name (listing the names, suggesting the nearest),
        or a reference that does not import or does not name a codec class.
    """
    if ":" in name:
        return _plugin_class(name)
    if name not in _REGISTERED and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
        if name not in _REGISTERED:
            raise RuntimeError(f"module {_BUILTIN[name]} does not register codec '{name}'")
    if name not in _REGISTERED:
        names = available_codecs()
        raise CodecConfigError(
            f"unknown codec '{name}'; choose from {', '.join(names)}, or "
            f'"package.module:ClassName"{did_you_mean(name, names)}'
        )
    return _REGISTERED[name]


def _plugin_class(reference: str) -> type[CodecBase]:
    """The codec class of ``"package.module:ClassName"``; every failure is one line."""
    found = load_reference(reference, "codec", CodecConfigError)
    if not (inspect.isclass(found) and issubclass(found, CodecBase)):
        what = type(found).__name__ if not inspect.isclass(found) else "a class"
        raise CodecConfigError(
            f"'{reference}' is {what}, not a codec: a codec class subclasses "
            "source_codecs.SourceCodec (or AnalogCodec)"
        )
    return found


def codec_parameters(cls: type[CodecBase]) -> tuple[Mapping[str, Param], list[inspect.Parameter]]:
    """What a codec class's constructor takes: its declared :class:`Param` s (when the constructor
    passes keyword arguments on to :class:`CodecBase`) and its own keyword parameters.

    :return: (declared parameters by name, keyword parameters of ``cls.__init__`` besides those).
    """
    signature = list(inspect.signature(cls.__init__).parameters.values())[1:]
    own = [p for p in signature if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    passes_on = any(p.kind is p.VAR_KEYWORD for p in signature)
    return (cls.parameters if passes_on else {}), own


def check_codec_params(codec: str | type[CodecBase], params: Mapping[str, Any] | None) -> None:
    """Check ``params`` against what the codec's constructor takes, without building it.

    :param codec: a codec name, a ``"package.module:ClassName"`` reference or a codec class.
    :raises CodecConfigError: one line: ``params`` is not a mapping, a parameter the codec does not
        take (suggesting the nearest), or a declared parameter's value that is not allowed.
    """
    cls = codec_class(codec) if isinstance(codec, str) else codec
    label = codec if isinstance(codec, str) else (cls.name or cls.__qualname__)
    if params is not None and not isinstance(params, Mapping):
        raise CodecConfigError(f"params of codec '{label}' must be a mapping, got {params!r}")
    params = dict(params or {})
    declared, own = codec_parameters(cls)
    accepted = {*declared, *(p.name for p in own)}
    for name in params:
        if name not in accepted:
            raise CodecConfigError(unknown_parameter(label, name, accepted))
    resolve_params(label, declared, {k: v for k, v in params.items() if k in declared})


def codec_recipe(
    codec: str | type[CodecBase], params: Mapping[str, Any] | None = None
) -> CodecRecipe:
    """The recipe of a codec (a name, a ``"package.module:ClassName"`` reference or a class) with
    YAML parameters, checked without building it.

    :raises CodecConfigError: as :func:`make_codec`.
    """
    check_codec_params(codec, params)
    cls = codec_class(codec) if isinstance(codec, str) else codec
    return CodecRecipe.of(cls, **dict(params or {}))


def make_codec(name: str, params: Mapping[str, Any] | None = None) -> CodecBase:
    """A codec instance from its name (or ``"package.module:ClassName"``) and YAML parameters.

    :raises CodecConfigError: unknown name (the message lists the available ones), a reference that
        does not import, or a parameter that is unknown or not allowed (the message names it and the
        allowed values).
    """
    return codec_recipe(name, params).build()


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
