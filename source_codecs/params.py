"""Declared codec parameters: defaults, allowed values and one-line errors for YAML input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from source_codecs.errors import CodecConfigError
from source_codecs.plugins import did_you_mean

__all__ = ["Param", "resolve_params", "unknown_parameter"]

_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Param:
    """One codec parameter as it may appear under ``params:`` in the YAML configuration.

    :param default: the value used when the parameter is not given.
    :param type: ``int``, ``float``, ``str`` or ``bool``. An ``int`` is accepted where a ``float`` is
        expected; a ``bool`` is never accepted as a number.
    :param low: smallest allowed value (numbers only), inclusive.
    :param high: largest allowed value (numbers only), inclusive.
    :param choices: the allowed values, if the parameter is an enumeration. A numeric parameter
        may also list names among them (``"auto"``), which are kept as given.
    :param doc: one line for documentation.
    """

    default: Any
    type: type
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``an integer in 1..95`` or ``one of '4:2:0', '4:4:4'``."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        words = _TYPE_WORDS[self.type]
        if self.low is not None and self.high is not None:
            return f"{words} in {self.low}..{self.high}"
        if self.low is not None:
            return f"{words} >= {self.low}"
        if self.high is not None:
            return f"{words} <= {self.high}"
        return words

    def validate(self, name: str, value: Any) -> Any:
        """``value`` converted to the declared type; :class:`CodecConfigError` if it is not allowed."""
        if isinstance(value, str) and self.type is not str and value in (self.choices or ()):
            return value  # a named choice of a numeric parameter ("auto")
        if not self._type_ok(value) or not self._range_ok(value):
            raise CodecConfigError(f"{name}: expected {self.allowed()}, got {value!r}")
        return self.type(value)

    def _type_ok(self, value: Any) -> bool:
        if isinstance(value, bool) != (self.type is bool):
            return False
        if self.type is float:
            return isinstance(value, int | float)
        return isinstance(value, self.type)

    def _range_ok(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def unknown_parameter(codec: str, name: str, accepted: Iterable[str]) -> str:
    """The one-line message for a parameter ``name`` that ``codec`` does not take, listing what it
    accepts and suggesting the nearest name."""
    accepted = sorted(accepted)
    listed = ", ".join(accepted) or "no parameters"
    return f"unknown parameter '{name}'; {codec} accepts: {listed}{did_you_mean(name, accepted)}"


def resolve_params(
    codec: str, declared: Mapping[str, Param], given: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Every declared parameter's value: the given one (validated) or its default.

    :param codec: the codec's name, for messages.
    :param declared: the codec's parameters by name.
    :param given: the parameters from the configuration (None = none given).
    :raises CodecConfigError: an unknown parameter name or a value that is not allowed.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise CodecConfigError(unknown_parameter(codec, unknown[0], declared))
    return {
        name: param.validate(name, given[name]) if name in given else param.default
        for name, param in declared.items()
    }
