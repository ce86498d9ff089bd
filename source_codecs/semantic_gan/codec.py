"""The semantic GAN codec behind the :class:`SourceCodec` interface (Huang et al., GLOBECOM 2021).

Transmitter: the label map is coded losslessly (at 1 / map factor resolution) and the image is
analysed into a compact quantised latent, entropy-coded in stripes. Receiver: the SPADE generator
regenerates an image from the decoded map and latent. See :mod:`.bitstream` for the format.
"""

from __future__ import annotations

__all__ = ["SemanticGANCodec"]

from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

from source_codecs.base import SourceCodec, check_image
from source_codecs.errors import BudgetTooSmall, DecodeError
from source_codecs.params import Param
from source_codecs.registry import register_codec
from source_codecs.semantic_gan.bitstream import RATES, Packets, pack, unpack
from source_codecs.semantic_gan.label_coding import decode_labels, encode_labels
from source_codecs.semantic_gan.latent_coding import decode_stripe, encode_stripes, stripe_bounds
from source_codecs.semantic_gan.model import DOWNSAMPLING, SemanticGAN, shipped_weights
from source_codecs.semantic_gan.semantic_map import downscale_map, one_hot, upscale_map

_CODER_ERRORS = (AssertionError, ValueError, RuntimeError, KeyError)
"""What constriction raises on data that no encoder could have written."""


@cache
def _model(rate: str) -> SemanticGAN:
    """The shipped model of a rate point, loaded once per process."""
    return SemanticGAN.load(shipped_weights(rate))


def _padded_size(height: int, width: int) -> tuple[int, int]:
    """Height and width rounded up to multiples of the latent downsampling."""
    return -(-height // DOWNSAMPLING) * DOWNSAMPLING, -(-width // DOWNSAMPLING) * DOWNSAMPLING


def _segmap(labels: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """One-hot [1, 20, *size] of uint8 [H, W] labels, edge-padded to ``size``."""
    pad = ((0, size[0] - labels.shape[0]), (0, size[1] - labels.shape[1]))
    return one_hot(torch.from_numpy(np.pad(labels, pad, mode="edge"))[None])


@register_codec("semantic_gan")
class SemanticGANCodec(SourceCodec):
    """Semantic map + compact latent -> SPADE generator.

    :param rate: ``auto`` (with a budget: the largest rate point that fits; without: ``high``) or
        one rate point, ``low`` / ``mid`` / ``high`` (latent channels C = 2 / 4 / 8).
    :param latent_rows: latent rows per latent packet (16 image rows each); smaller = finer loss
        granularity, a few bytes more.
    :param map_scale: resolution at which the label map is coded (1, 1/2 or 1/4, nearest
        neighbour; the receiver repeats it back to full size). The shipped models were trained on
        maps at 1/4 (their ``config.map_factor``); a finer map costs more bytes and is not what
        they learnt from.

    The encoder needs the label map (``labels``); the stream carries it.
    """

    resilient = True
    trusted_decoder = True
    needs_labels = True
    parameters = {
        "rate": Param("auto", str, choices=("auto", *RATES), doc="rate point"),
        "latent_rows": Param(4, int, 1, 255, doc="latent rows per latent packet"),
        "map_scale": Param(0.25, float, choices=(1.0, 0.5, 0.25), doc="label map resolution"),
    }

    def candidates(self) -> list[str]:
        """Rate points to try, largest first."""
        rate = self.params["rate"]
        return list(reversed(RATES)) if rate == "auto" else [rate]

    @torch.no_grad()
    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """Stream of the largest allowed rate point within ``max_bytes`` (see the class docstring).

        :param image: uint8 [H, W, 3].
        :param labels: uint8 [H, W] trainIds (required).
        :raises BudgetTooSmall: even the map and the lowest rate point exceed ``max_bytes``.
        """
        height, width = check_image(image)
        if labels is None or labels.shape != (height, width) or labels.dtype != np.uint8:
            raise ValueError("semantic_gan needs the uint8 [H, W] label map of the image (labels=)")
        size = _padded_size(height, width)
        x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
        x = F.pad(x, (0, size[1] - width, 0, size[0] - height), mode="replicate")
        rows = self.params["latent_rows"]
        factor = round(1 / self.params["map_scale"])
        small = downscale_map(labels, factor)
        map_packet = encode_labels(small)
        segmap = _segmap(upscale_map(small, factor, height, width), size)  # the receiver's map
        smallest = None
        for rate in self.candidates():
            model = _model(rate)
            symbols = model.analyse(x, segmap)[0].numpy()
            latent = tuple(encode_stripes(symbols, model.pmf().numpy(), rows))
            stream = pack(Packets(rate, factor, rows, map_packet, latent))
            if max_bytes is None or len(stream) <= max_bytes:
                return stream
            smallest = len(stream) if smallest is None else min(smallest, len(stream))
        raise BudgetTooSmall(self.name, max_bytes, smallest)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Image uint8 [height, width, 3] from a complete stream; :class:`DecodeError` if broken."""
        return self.decode_with_erasures(data, height, width, None)

    @torch.no_grad()
    def decode_with_erasures(
        self, data: bytes, height: int, width: int, erased_bytes: np.ndarray | None
    ) -> np.ndarray:
        """Image from a stream some of whose bytes were lost.

        :param erased_bytes: bool [len(data)], True where the byte was lost (None = none). A latent
            packet with a lost byte is dropped: its band of the latent is set to each channel's
            expected value and the generator fills it from the map.
        :return: uint8 [height, width, 3].
        :raises DecodeError: the header or the map packet was lost, or the stream is malformed.
        """
        rate, labels, latent = self.receive(data, height, width, erased_bytes)
        size = _padded_size(height, width)
        image = _model(rate).synthesise(latent, _segmap(labels, size))[0, :, :height, :width]
        return ((image + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()

    def receive(
        self, data: bytes, height: int, width: int, erased_bytes: np.ndarray | None = None
    ) -> tuple[str, np.ndarray, torch.Tensor]:
        """The entropy-decoding half of the receiver: what the generator is given.

        :param erased_bytes: as in :meth:`decode_with_erasures`.
        :return: (rate point, uint8 [height, width] label map, float32 [1, C, ceil(H / 16),
            ceil(W / 16)] latent values, lost bands at each channel's expected value).
        :raises DecodeError: as in :meth:`decode_with_erasures`.
        """
        size = _padded_size(height, width)
        latent_h, latent_w = size[0] // DOWNSAMPLING, size[1] // DOWNSAMPLING
        packets = unpack(bytes(data), latent_h)
        lost = [False] * len(packets.spans)
        if erased_bytes is not None:
            erased = np.asarray(erased_bytes, dtype=bool)
            if erased.shape != (len(data),):
                raise ValueError(f"erased_bytes must be bool [{len(data)}], got {erased.shape}")
            lost = [bool(erased[a:b].any()) for a, b in packets.spans]
        if lost[0] or lost[1]:
            raise DecodeError("semantic_gan: the header or the semantic map packet was lost")
        model = _model(packets.rate)
        try:
            labels = self._decode_map(packets, height, width)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"semantic_gan: the map packet does not decode ({exc})") from exc
        pmf = model.pmf()
        latent = (pmf * model.quantizer.centres.double()).sum(1).float()  # expected values [C]
        latent = latent[None, :, None, None].repeat(1, 1, latent_h, latent_w)
        bounds = stripe_bounds(latent_h, packets.rows)
        for (top, end), packet, gone in zip(bounds, packets.latent_packets, lost[2:], strict=True):
            if not gone:
                symbols = self._decode_stripe(packet, pmf.numpy(), end - top, latent_w)
                latent[0, :, top:end] = model.quantizer.dequantize(torch.from_numpy(symbols).long())
        return packets.rate, labels, latent

    @staticmethod
    def _decode_map(packets: Packets, height: int, width: int) -> np.ndarray:
        factor = packets.map_factor
        small = decode_labels(packets.map_packet, -(-height // factor), -(-width // factor))
        return upscale_map(small, factor, height, width)

    @staticmethod
    def _decode_stripe(packet: bytes, pmf: np.ndarray, rows: int, width: int) -> np.ndarray:
        try:
            return decode_stripe(packet, pmf, rows, width)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"semantic_gan: latent packet does not decode ({exc})") from exc
