"""Source codecs behind one interface: image -> countable byte stream -> image.

Named ``source_codecs`` (source coding, as opposed to the channel coding in ``channels``) because a
top-level ``codecs`` package would be shadowed by the standard library's ``codecs`` module.

>>> from source_codecs import available_codecs, make_codec
>>> {"jpeg", "jpeg2000", "webp", "bpg", "vvc", "avif", "jpegxl", "original"} <= set(available_codecs())
True
"""

from source_codecs.analog import AnalogCodec
from source_codecs.base import CodecBase, SourceCodec, check_image
from source_codecs.conformance import check_codec
from source_codecs.errors import BudgetTooSmall, CodecConfigError, DecodeError
from source_codecs.isolation import (
    DecodeOutcome,
    DecodeStatus,
    SafeDecoder,
    safe_decode,
    shared_decoder,
)
from source_codecs.params import Param
from source_codecs.rate_control import fit_to_budget
from source_codecs.recipe import CodecRecipe
from source_codecs.registry import (
    available_codecs,
    check_codec_params,
    codec_class,
    codec_parameters,
    codec_recipe,
    make_codec,
    register_codec,
)

__all__ = [
    "AnalogCodec",
    "BudgetTooSmall",
    "CodecBase",
    "CodecConfigError",
    "CodecRecipe",
    "DecodeError",
    "DecodeOutcome",
    "DecodeStatus",
    "Param",
    "SafeDecoder",
    "SourceCodec",
    "available_codecs",
    "check_codec",
    "check_codec_params",
    "check_image",
    "codec_class",
    "codec_parameters",
    "codec_recipe",
    "fit_to_budget",
    "make_codec",
    "register_codec",
    "safe_decode",
    "shared_decoder",
]
