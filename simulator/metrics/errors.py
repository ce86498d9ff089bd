"""The error a metric raises when it cannot be computed on this machine."""

from __future__ import annotations

__all__ = ["MetricUnavailable"]


class MetricUnavailable(RuntimeError):
    """A metric's model or weights are not available offline.

    The message says, in one line, what is missing and where it was looked for. The simulator catches
    it, leaves the metric's column empty and reports the message once.
    """
