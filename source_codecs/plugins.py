"""Plug-ins named by reference, ``"package.module:ClassName"``: importing them with one-line errors, and
the nearest valid name for a misspelt one. Shared by the codec and the channel registries."""

from __future__ import annotations

import difflib
import pkgutil
from collections.abc import Iterable

__all__ = ["did_you_mean", "load_reference"]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the choice nearest to ``word`` (difflib), or ``""`` if none is close.

    >>> did_you_mean("qualty", ["method", "quality"])
    "; did you mean 'quality'?"
    """
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def load_reference(reference: str, what: str, error: type[Exception]) -> object:
    """The object that ``"package.module:Name"`` names, importing its module.

    :param reference: ``"package.module:Name"``.
    :param what: what it should be, for messages (``codec``, ``model``).
    :param error: the exception type to raise.
    :raises error: one line: the module is not found, it fails while importing (the plug-in's own
        error, by type and message), or it has no such name.
    """
    module = reference.partition(":")[0]
    try:
        return pkgutil.resolve_name(reference)
    except ModuleNotFoundError as exc:
        raise error(
            f"cannot import '{module}' for {what} '{reference}': {exc} (run from the folder that "
            "holds it, or put that folder on PYTHONPATH)"
        ) from None
    except AttributeError as exc:
        raise error(f"'{reference}': {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the plug-in's own module failed: say how, in one line
        raise error(
            f"importing '{module}' for {what} '{reference}' failed: {type(exc).__name__}: {exc}"
        ) from None
