"""BPG-equivalent HEVC intra (x265): libbpg's encoder settings through PyAV, FFmpeg's HEVC decoder.

No BPG encoder exists in any package registry. BPG (Bellard's Portable Graphics) is one HEVC intra
picture in a small container; this codec reproduces libbpg's x265 configuration (``x265_glue.c``):
intra only (``keyint=1``), constant QP, ``tune=ssim``, no info SEI, full-range YCbCr (BT.601), 4:2:0
or 4:4:4 chroma, 8 bits.

What is sent differs from a ``.bpg`` file in the header only: instead of BPG's 10-20 byte header that
packs the HEVC parameter sets, the raw VPS/SPS/PPS NAL units are sent (about 80 bytes at 256x512) and
counted, together with the slice data. Decoding is FFmpeg's HEVC decoder through PyAV.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from source_codecs.classical.annexb import HEVC_DROPPABLE, hevc_nal_type
from source_codecs.classical.intra_video import IntraVideoCodec
from source_codecs.classical.pyav_io import planes_to_frame
from source_codecs.classical.ycbcr import CHROMA_FORMATS
from source_codecs.params import Param
from source_codecs.registry import register_codec

__all__ = ["BPG"]

_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower")
_PRESETS += ("veryslow", "placebo")


@register_codec("bpg")
class BPG(IntraVideoCodec):
    """BPG-equivalent HEVC intra (x265); the rate knob is the x265 QP 0..51.

    :param qp: x265 QP used when no byte budget is given, 0..51 (default 29: ``bpgenc``'s default
        ``-q 28``; libbpg passes ``-q Q`` to x265 as QP ``Q + 1``).
    :param chroma: ``"4:2:0"`` (default, as ``bpgenc``) or ``"4:4:4"``.
    :param preset: x265 preset (default ``"slow"``). ``bpgenc``'s default level ``-m 8`` is
        ``"veryslow"``: about 1% fewer bytes at the same QP for twice the encoding time.

    The stream is the HEVC Annex B byte stream (parameter sets and one IDR slice). At 256x512 the
    smallest stream (QP 51) is about 0.03-0.07 bpp; lower budgets raise ``BudgetTooSmall``.

    >>> from skimage.data import astronaut
    >>> from source_codecs import make_codec
    >>> codec = make_codec("bpg")
    >>> stream = codec.encode(astronaut()[:64, :96], max_bytes=400)   # len(stream) <= 400
    >>> codec.decode(stream, 64, 96).shape
    (64, 96, 3)
    """

    decoder = "hevc"
    concurrent_encodes = True  # x265 on one thread of its own, the GIL released while it encodes
    bit_depth = 8
    max_qp = 51
    nal_type = staticmethod(hevc_nal_type)
    droppable = HEVC_DROPPABLE
    parameters = {
        "qp": Param(29, int, 0, 51, doc="x265 QP without a byte budget"),
        "chroma": Param("4:2:0", str, choices=CHROMA_FORMATS, doc="chroma subsampling"),
        "preset": Param("slow", str, choices=_PRESETS, doc="x265 speed/efficiency preset"),
    }

    def encode_planes(self, planes: list[np.ndarray], qp: int) -> bytes:
        """x265's Annex B stream for one intra picture at QP ``qp`` (libbpg's settings)."""
        height, width = planes[0].shape
        context = av.CodecContext.create("libx265", "w")
        context.width, context.height = width, height
        context.pix_fmt = self.pixel_format
        context.time_base = Fraction(1, 25)  # libbpg's dummy frame rate
        context.thread_count = 1
        settings = {
            "qp": qp,
            "keyint": 1,
            "info": 0,
            "range": "full",
            "colormatrix": "smpte170m",
            "frame-threads": 1,
            "pools": "none",
            "log-level": "none",
        }
        context.options = {
            "preset": self.params["preset"],
            "tune": "ssim",
            "x265-params": ":".join(f"{k}={v}" for k, v in settings.items()),
        }
        frame = planes_to_frame(planes, self.pixel_format)
        packets = list(context.encode(frame)) + list(context.encode(None))
        return b"".join(bytes(packet) for packet in packets)
