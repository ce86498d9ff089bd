"""What a configuration can name: every registered codec, channel model and metric, one line each with
its parameters (``python -m simulator.run --list``)."""

from __future__ import annotations

import inspect

from channels import available_channels, channel_class, channel_parameters
from simulator.metrics.registry import available_metrics, metric_info
from source_codecs import available_codecs, codec_class, codec_parameters
from source_codecs.layered import LayeredCodec

__all__ = ["catalogue"]


def _keyword(param: inspect.Parameter) -> str:
    """``name=default`` (``name`` alone when it has no default)."""
    return (
        param.name
        if param.default is inspect.Parameter.empty
        else f"{param.name}={param.default!r}"
    )


def _codec_line(name: str) -> str:
    try:
        cls = codec_class(name)
    except Exception as exc:  # noqa: BLE001 - a codec whose library is missing is listed as such
        return f"codec    {name:<20} unavailable: {type(exc).__name__}: {exc}"
    declared, own = codec_parameters(cls)
    params = [f"{k}={p.default!r} ({p.allowed()})" for k, p in declared.items()]
    params += [_keyword(p) for p in own]
    kind = "layered" if issubclass(cls, LayeredCodec) else cls.kind
    return f"codec    {name:<20} {kind:<9} {', '.join(params) or 'no parameters'}"


def _channel_line(name: str) -> str:
    named, _ = channel_parameters(channel_class(name))
    return f"channel  {name:<20} {', '.join(map(_keyword, named)) or 'no parameters'}"


def _metric_line(name: str) -> str:
    info = metric_info(name)
    better = "higher" if info.higher_is_better else "lower"
    unit = f", {info.unit}" if info.unit else ""
    return f"metric   {name:<20} {info.level}, {better} is better{unit}: {info.doc}"


def catalogue() -> list[str]:
    """One line per codec (its kind: digital, layered, analog or reference, and each parameter with its
    default and allowed values), per channel model (its parameters and defaults) and per metric (per
    image or per set of images, its direction and meaning)."""
    return (
        [_codec_line(n) for n in available_codecs()]
        + [_channel_line(n) for n in available_channels()]
        + [_metric_line(n) for n in available_metrics()]
    )
