"""How to build a codec again in another process: its class and the arguments it was built with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from source_codecs.base import CodecBase

__all__ = ["CodecRecipe"]


@dataclass(frozen=True)
class CodecRecipe:
    """A codec class and the arguments of its constructor: picklable (the class travels by reference,
    as ``module:qualname``), so that a worker process can build the same codec.

    Every codec carries the recipe it was built from (:attr:`CodecBase.recipe
    <source_codecs.base.CodecBase.recipe>`); :func:`~source_codecs.registry.codec_recipe` makes one
    from a registered name and YAML parameters.

    :param codec_class: the codec's class (a :class:`~source_codecs.base.CodecBase` subclass).
    :param args: positional arguments of the constructor (none for codecs built from YAML).
    :param params: keyword arguments of the constructor, as (name, value) pairs sorted by name.

    >>> from source_codecs import make_codec
    >>> recipe = make_codec("jpeg", {"quality": 50}).recipe
    >>> recipe.params
    (('quality', 50),)
    >>> recipe.build().params["quality"]
    50
    """

    codec_class: type[CodecBase]
    args: tuple[Any, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, codec_class: type[CodecBase], *args: Any, **params: Any) -> CodecRecipe:
        """The recipe of ``codec_class(*args, **params)``."""
        return cls(codec_class, args, tuple(sorted(params.items())))

    @property
    def key(self) -> tuple[type, str]:
        """A hashable identity: the class and the arguments' ``repr`` (values may be lists)."""
        return self.codec_class, repr((self.args, self.params))

    def build(self) -> CodecBase:
        """A new codec made from this recipe."""
        return self.codec_class(*self.args, **dict(self.params))
