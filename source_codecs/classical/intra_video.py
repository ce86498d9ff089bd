"""Still images as one intra-coded picture of a video codec (HEVC, VVC): the shared machinery.

The RGB image becomes full-range BT.601 YCbCr planes (:mod:`source_codecs.classical.ycbcr`), the encoder codes
them as a single intra picture at a constant QP, and the Annex B stream is sent without its access
unit delimiters and SEI messages (:mod:`source_codecs.classical.annexb`): the parameter sets (VPS/SPS/PPS) and
the slice data are every byte the decoder needs, and every one of them is counted. FFmpeg's decoder
(through PyAV) rebuilds the planes; the inverse colour transform is fixed by the codec, as in BPG.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection
from typing import ClassVar

import numpy as np

from source_codecs.classical.annexb import drop_nal_units
from source_codecs.classical.knob_codec import KnobCodec
from source_codecs.classical.pyav_io import decode_picture, frame_planes
from source_codecs.classical.ycbcr import pad_to_even, planes_to_rgb, rgb_to_planes
from source_codecs.errors import DecodeError

__all__ = ["IntraVideoCodec"]


class IntraVideoCodec(KnobCodec):
    """An intra-only video codec; the rate knob is the QP, from ``max_qp`` (smallest) down to 0.

    Subclasses set :attr:`decoder` (PyAV decoder name), :attr:`bit_depth`, :attr:`max_qp`,
    :attr:`nal_type` (a staticmethod) and :attr:`droppable`, declare a ``qp`` parameter (and optionally ``chroma``),
    and implement :meth:`encode_planes`.

    Images with an odd height or width are padded by edge replication for 4:2:0 and cropped after
    decoding (the padded size is what the decoder must report).
    """

    decoder: ClassVar[str]
    bit_depth: ClassVar[int] = 8
    max_qp: ClassVar[int]
    nal_type: ClassVar[Callable[[bytes], int]]
    droppable: ClassVar[Collection[int]]

    @property
    def chroma(self) -> str:
        """``"4:2:0"`` or ``"4:4:4"``."""
        return self.params.get("chroma", "4:2:0")

    @property
    def pixel_format(self) -> str:
        """The FFmpeg pixel format of the coded planes, e.g. ``yuv420p`` or ``yuv420p10le``."""
        base = "yuv" + self.chroma.replace(":", "") + "p"
        return base if self.bit_depth == 8 else f"{base}{self.bit_depth}le"

    @abstractmethod
    def encode_planes(self, planes: list[np.ndarray], qp: int) -> bytes:
        """The encoder's Annex B stream for one intra picture.

        :param planes: [Y [H, W], Cb, Cr] full-range samples of :attr:`bit_depth` bits (uint8 or
            uint16), chroma subsampled as :attr:`chroma` says; H and W even for 4:2:0.
        :param qp: the constant quantisation parameter, 0..:attr:`max_qp`.
        """

    def knobs(self, image: np.ndarray) -> range:
        """QP from :attr:`max_qp` (smallest stream) down to 0."""
        return range(self.max_qp, -1, -1)

    def default_knob(self, image: np.ndarray) -> int:
        """The ``qp`` parameter."""
        return self.params["qp"]

    def write(self, image: np.ndarray, knob: int) -> bytes:
        """The stream sent for QP ``knob``: parameter sets and slice data, no AUD/SEI."""
        coded = pad_to_even(image) if self.chroma == "4:2:0" else image
        planes = rgb_to_planes(coded, self.chroma, self.bit_depth)
        return drop_nal_units(self.encode_planes(planes, knob), self.droppable, self.nal_type)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """See :meth:`SourceCodec.decode`: one picture of the padded size and the expected format."""
        try:
            frame = decode_picture(self.decoder, data)
        except Exception as exc:  # av.FFmpegError subclasses, ValueError
            raise DecodeError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        padded = self.chroma == "4:2:0"
        coded_h, coded_w = (height + height % 2, width + width % 2) if padded else (height, width)
        if (frame.height, frame.width) != (coded_h, coded_w):
            raise DecodeError(
                f"{self.name}: stream declares {frame.width}x{frame.height} pixels, "
                f"expected {coded_w}x{coded_h}"
            )
        accepted = {self.pixel_format, self.pixel_format.replace("yuv", "yuvj")}
        if frame.format.name not in accepted:
            raise DecodeError(
                f"{self.name}: stream decodes to {frame.format.name}, expected {self.pixel_format}"
            )
        return planes_to_rgb(frame_planes(frame), self.bit_depth)[:height, :width]
