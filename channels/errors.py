"""Errors raised while building a channel from a configuration."""

from __future__ import annotations

__all__ = ["ChannelConfigError"]


class ChannelConfigError(ValueError):
    """A channel model name or its parameters are invalid.

    The message is one readable line naming what is wrong and what is allowed; the caller prefixes the
    configuration key path (e.g. ``channel.params``).
    """
