"""The interface of analog (joint source-channel) codecs: an image in, complex channel symbols out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import torch

from source_codecs.base import CodecBase

__all__ = ["AnalogCodec"]


class AnalogCodec(CodecBase, ABC):
    r"""A codec that maps images straight to channel symbols and back (deep JSCC).

    It bypasses the digital physical layer (no bits, no FEC, no CRC) but uses the same channel models,
    the same SNR definition and the same budget: K complex symbols per image. There is no bitstream, so
    bpp does not apply; what an image costs is its K channel uses.

    Both calls take a batch. The encoder normalises each image's symbols to unit average energy (the
    SPEC's SNR = Es/N0 then holds); the decoder receives the zero-forcing equalised symbols. Both are
    told the channel's average SNR, which SNR-adaptive models use; the decoder also gets each symbol's
    post-equalisation noise variance (the receiver's CSI).

    Register with :func:`source_codecs.register_codec` like any codec (``kind = "analog"``).
    """

    kind: ClassVar[str] = "analog"

    @abstractmethod
    def encode_symbols(self, images: np.ndarray, num_symbols: int, snr_db: float) -> torch.Tensor:
        """Channel symbols of a batch of images.

        :param images: uint8 [B, H, W, 3], RGB.
        :param num_symbols: K, complex channel symbols per image.
        :param snr_db: the channel's average SNR (Es/N0), dB.
        :return: [B, K] `torch.complex64` on the CPU, each row with mean ``|x|^2`` = 1.
        :raises ValueError: K is more than the codec can fill, or the images are malformed.
        """

    @abstractmethod
    def decode_symbols(
        self,
        symbols: torch.Tensor,
        noise_var: torch.Tensor,
        snr_db: float,
        height: int,
        width: int,
    ) -> np.ndarray:
        """Images from received, equalised symbols.

        :param symbols: [B, K] `torch.complex64`: ``x + e`` after zero forcing.
        :param noise_var: [B, K] `torch.float32`: the variance of each symbol's error ``e`` as the
            receiver knows it, ``(N0 + err_var) / |h|^2`` (N0 everywhere on AWGN; large in deep fades).
        :param snr_db: the channel's average SNR (Es/N0), dB.
        :param height: H, pixels.
        :param width: W, pixels.
        :return: uint8 [B, H, W, 3], RGB.
        """
