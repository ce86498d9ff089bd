"""The semantic GAN codec behind the :class:`SourceCodec` interface (Huang et al., GLOBECOM 2021).

Transmitter: the label map is coded losslessly (at 1 / map factor resolution) and the image is
analysed into a compact quantised latent, entropy-coded in stripes: the base layer. Receiver: the
SPADE generator regenerates an image from the decoded map and latent. The optional enhancement layer
codes the residual between the image and that base reconstruction (:mod:`.enhancement`); the
receiver adds it back. See :mod:`.bitstream` for the format.
"""

from __future__ import annotations

__all__ = ["GeneratorInput", "SemanticGANCodec"]

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from source_codecs.base import SEMANTIC_MAP_SOURCES, check_image, image_digest, network_batches
from source_codecs.errors import BudgetTooSmall, DecodeError, each_or_none
from source_codecs.layered import LayeredCodec, ReceivedLayers
from source_codecs.lru import LRUCache, read_only
from source_codecs.params import Param
from source_codecs.rate_control import rate_points_to_try
from source_codecs.registry import register_codec
from source_codecs.semantic_gan.bitstream import MAP_FACTORS, Packets, pack, unpack
from source_codecs.semantic_gan.enhancement import (
    CHOICES,
    RESIDUAL_CODECS,
    decode_enhancement,
    encode_enhancement,
)
from source_codecs.semantic_gan.label_coding import decode_labels, encode_labels
from source_codecs.semantic_gan.latent_coding import decode_stripe, encode_stripes, stripe_bounds
from source_codecs.semantic_gan.model import DOWNSAMPLING, SemanticGAN
from source_codecs.semantic_gan.pixels import from_signed, to_signed
from source_codecs.semantic_gan.semantic_map import downscale_map, one_hot, upscale_map
from source_codecs.semantic_gan.zoo import RATES, ZOO, shipped_weights
from source_codecs.zoo import find

_CODER_ERRORS = (AssertionError, ValueError, RuntimeError, KeyError)
"""What constriction raises on data that no encoder could have written."""

ENHANCEMENT_BPP: dict[str, float] = {"low": 0.05, "mid": 0.15, "high": 0.4}
"""Enhancement layer sizes in bits per pixel (``auto``: whatever the budget leaves)."""
_LENGTH_FIELD = 3
"""Bytes an enhancement layer adds to the header at most (one more LEB128 packet length)."""

_MEMO: LRUCache[np.ndarray] = LRUCache(256 << 20, lambda a: a.nbytes)
"""What the encoder computes again for every budget of the same image: the analysis (latent symbols)
per (codec, image, map, rate point), and the base reconstruction the enhancement residual is taken
over, per base stream. Both are deterministic, so a cached value is what a fresh run computes."""

_FINER: LRUCache[bytes] = LRUCache(32 << 20, len)
"""``fill_map``'s base streams with a finer map, per (codec, image, labels, rate point, map factor):
coding the full-resolution map costs about 0.26 s at 256x512, and every budget of the same image
would code it again."""


class GeneratorInput(NamedTuple):
    """What the receiver's entropy decoding gives the generator (:meth:`SemanticGANCodec.receive`).

    :param rate: the stream's rate point.
    :param labels: uint8 [height, width] label map.
    :param latent: float32 [1, C, ceil(H / 16), ceil(W / 16)] latent values, lost bands at each
        channel's expected value.
    :param map_factor: the map was coded at 1 / map_factor resolution (it picks the weights).
    """

    rate: str
    labels: np.ndarray
    latent: torch.Tensor
    map_factor: int = 4


def _model(rate: str, device: str = "cpu", map_factor: int | None = None) -> SemanticGAN:
    """The shipped model of a rate point, for a map coded at 1 / ``map_factor`` (None: the rate
    point's own weights), on ``device``: :func:`~.zoo.shipped_weights`."""
    return _load(shipped_weights(rate, map_factor), device)


@cache
def _load(path: Path, device: str) -> SemanticGAN:
    """A weights file's model on ``device``, loaded once per process and device."""
    return SemanticGAN.load(path, device)


def _padded_size(height: int, width: int) -> tuple[int, int]:
    """Height and width rounded up to multiples of the latent downsampling."""
    return -(-height // DOWNSAMPLING) * DOWNSAMPLING, -(-width // DOWNSAMPLING) * DOWNSAMPLING


def _segmap(labels: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """One-hot [1, 20, *size] of uint8 [H, W] labels, edge-padded to ``size``."""
    pad = ((0, size[0] - labels.shape[0]), (0, size[1] - labels.shape[1]))
    return one_hot(torch.from_numpy(np.pad(labels, pad, mode="edge"))[None])


@register_codec("semantic_gan")
class SemanticGANCodec(LayeredCodec):
    """Semantic map + compact latent -> SPADE generator (base layer), plus an optional residual
    enhancement layer.

    :param rate: ``auto`` (with a budget: the largest rate point that fits; without: ``high``) or
        one rate point, ``low`` / ``mid`` / ``high`` (latent channels C = 2 / 4 / 8).
    :param latent_rows: latent rows per latent packet (16 image rows each); smaller = finer loss
        granularity, a few bytes more.
    :param map_scale: resolution at which the label map is coded (1, 1/2 or 1/4, nearest
        neighbour; the receiver repeats it back to full size), or ``auto`` (default): each rate
        point's own, the resolution its model was trained on (``config.map_factor``; the zoo table
        in the README). A map finer than a model's costs more bytes and is not what it learnt
        from. A budget too small for this map alone gets the map alone at 1/8, 1/16 or 1/32
        resolution.
    :param fill_map: with ``enhancement: none`` and a budget, code the map finer than
        ``map_scale`` (1/2, then full resolution) where the budget has room for it beside the rate
        point chosen at ``map_scale``: the bytes a rate point leaves unspent sharpen the semantics
        (measured on 60 held-out scenes, shipped weights, map 1/4 -> 1/2: mIoU 0.550 -> 0.576 at
        ``low``, 0.594 -> 0.609 at ``high``, LPIPS and PSNR a little better too;
        ``benchmarks/results/semantic_gan_training.md``). The rate point is never lowered for it.
        With an enhancement layer, the base takes a finer map only where the rate point has
        weights trained on it (``low`` at 1/2), and the enhancement gets what is left.
    :param enhancement: ``none``; ``low`` / ``mid`` / ``high`` (about 0.05 / 0.15 / 0.4 bpp, less
        if the budget is tighter); or ``auto`` (every byte of the budget the base leaves).
    :param enhancement_codec: the codec of the enhancement layer, classical or the learned
        ``hyperprior_residual`` (``bpg`` measured best: ``benchmarks/results/enhancement_codec.md``).
    :param enhancement_mode: what the enhancement layer codes (:mod:`.enhancement`):
        ``residual``, the image minus the base; ``image``, the image itself, shown in place of the
        base when the layer arrives; ``auto_mse`` / ``auto_lpips``, both coded and the one whose
        reconstruction is closer to the image by squared error / by ST-LPIPS sent (one byte of the
        layer says which).
    :param semantic_map: where the coded map comes from (:meth:`semantic_map`): ``labels``, the
        data source's label maps (required); ``segmenter``, the transmitter's segmenter's prediction
        of the image, as a semantic transmitter without ground truth does; ``auto`` (default), the
        labels where the source has them, else the segmenter.

    The encoder needs the label map (``labels``), from the source or the segmenter as
    ``semantic_map`` says; the stream carries it. The enhancement decoder runs isolated (see
    :mod:`.enhancement`), so the codec's own decode stays trusted.
    """

    trusted_decoder = True
    concurrent_encodes = True  # its networks on one torch thread each, x265 (the residual) GIL-free
    needs_labels = True
    parameters = {
        "rate": Param("auto", str, choices=("auto", *RATES), doc="base layer rate point"),
        "enhancement": Param(
            "none", str, choices=("none", *ENHANCEMENT_BPP, "auto"), doc="enhancement layer size"
        ),
        "enhancement_codec": Param(
            "bpg", str, choices=RESIDUAL_CODECS, doc="codec of the enhancement layer"
        ),
        "enhancement_mode": Param(
            "residual",
            str,
            choices=CHOICES,
            doc="what the enhancement layer codes: the residual, the image, or the closer of both",
        ),
        "latent_rows": Param(4, int, 1, 255, doc="latent rows per latent packet"),
        "map_scale": Param(
            "auto", float, choices=("auto", 1.0, 0.5, 0.25), doc="label map resolution"
        ),
        "fill_map": Param(
            True, bool, doc="without enhancement: a finer map where the budget leaves room"
        ),
        "semantic_map": Param(
            "auto",
            str,
            choices=("auto", *SEMANTIC_MAP_SOURCES),
            doc="the coded map: the source's labels, the segmenter's, or auto (labels if any)",
        ),
    }

    def semantic_map(self, source_has_labels: bool) -> str:
        """``labels`` or ``segmenter``, as the ``semantic_map`` parameter says (``auto``: the
        labels where the source has them)."""
        choice = self.params["semantic_map"]
        if choice == "auto":
            return "labels" if source_has_labels else "segmenter"
        return choice

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """Base layer (the largest allowed rate point) and enhancement layer in one stream of at most
        ``max_bytes`` bytes; a fixed-size enhancement is reserved before the base rate is chosen.

        :param image: uint8 [H, W, 3].
        :param labels: uint8 [H, W] trainIds (required).
        :raises BudgetTooSmall: even the header and the map exceed ``max_bytes``.
        """
        height, width = check_image(image)
        level = self.params["enhancement"]
        target = None if level in ("none", "auto") else ENHANCEMENT_BPP[level] * height * width / 8
        base = None
        if target is not None and max_bytes is not None and max_bytes > target:
            try:  # the reservation never costs the base its latent packets
                base = self.encode_base(
                    image, int(max_bytes - target), labels=labels, leave_out=False
                )
            except BudgetTooSmall:
                base = None
        if base is None:
            base = self.encode_base(image, max_bytes, labels=labels)
        room = (1 << 30 if max_bytes is None else max_bytes) - len(base) - _LENGTH_FIELD
        layer = self.encode_enhancement(image, base, room) if room > 0 else b""
        if not layer:
            return base
        return pack(replace(unpack(base, -(-height // DOWNSAMPLING)), enhancement=layer))

    @torch.no_grad()
    def encode_base(
        self,
        image: np.ndarray,
        max_bytes: int | None,
        *,
        labels: np.ndarray | None = None,
        leave_out: bool = True,
    ) -> bytes:
        """Base layer stream of the largest allowed rate point within ``max_bytes``.

        Below the lowest allowed rate point, latent packets are left out (bottom band first; see
        :meth:`_left_out`), down to the map alone, and below that the map alone is coded coarser
        (1/8 ... 1/32 resolution; see :meth:`_coarser_map`): the semantics still arrive.

        :param image: uint8 [H, W, 3].
        :param labels: uint8 [H, W] trainIds (required).
        :param leave_out: False: no packet is left out; a budget below the lowest rate point raises.
        :raises BudgetTooSmall: even the header and the map at 1/32 resolution exceed
            ``max_bytes`` (with ``leave_out=False``: the lowest rate point does).
        """
        height, width = check_image(image)
        if labels is None or labels.shape != (height, width) or labels.dtype != np.uint8:
            raise ValueError("semantic_gan needs the uint8 [H, W] label map of the image (labels=)")
        size = _padded_size(height, width)
        x = to_signed(image)[None].to(self.device)
        x = F.pad(x, (0, size[1] - width, 0, size[0] - height), mode="replicate")
        for rate in rate_points_to_try(self.params["rate"], RATES):
            packets = self._packets(image, x, labels, rate, self._map_factor(rate))
            stream = pack(packets)
            if max_bytes is None or len(stream) <= max_bytes:
                return self._filled(image, x, labels, packets, stream, max_bytes)
        if not leave_out:
            raise BudgetTooSmall(self.name, max_bytes, len(stream))
        return self._left_out(packets, max_bytes) or self._coarser_map(packets, labels, max_bytes)

    def _map_factor(self, rate: str) -> int:
        """The map is coded at 1 / this resolution for rate point ``rate`` (``map_scale``)."""
        scale = self.params["map_scale"]
        return _model(rate, self.device).config.map_factor if scale == "auto" else round(1 / scale)

    def _packets(
        self, image: np.ndarray, x: torch.Tensor, labels: np.ndarray, rate: str, factor: int
    ) -> Packets:
        """The base layer's packets of rate point ``rate`` with the map at 1 / ``factor``.

        :param image: uint8 [H, W, 3]; ``x`` is it as the network's padded float [1, 3, H', W'].
        :param labels: uint8 [H, W] trainIds.
        """
        height, width = labels.shape
        small = downscale_map(labels, factor)
        segmap = _segmap(upscale_map(small, factor, height, width), tuple(x.shape[-2:]))
        key = (self.recipe.key, image_digest(image), image_digest(small), factor, rate)
        model = _model(rate, self.device, factor)
        symbols = _MEMO.get(
            ("analysis", *key),
            lambda: read_only(model.analyse(x, segmap.to(self.device))[0].cpu().numpy()),
        )
        rows = self.params["latent_rows"]
        latent = tuple(encode_stripes(symbols, model.pmf().cpu().numpy(), rows))
        return Packets(rate, factor, rows, encode_labels(small), latent)

    def _filled(
        self,
        image: np.ndarray,
        x: torch.Tensor,
        labels: np.ndarray,
        packets: Packets,
        stream: bytes,
        max_bytes: int | None,
    ) -> bytes:
        """``stream`` (of ``packets``), or, as ``fill_map`` says, the same rate point with the
        finest map finer than its own that fits ``max_bytes``: any finer map without an enhancement
        layer; with one, only a map the rate point has weights trained for (the zoo's
        ``map_weights``), the enhancement taking what the base leaves."""
        if not self.params["fill_map"] or max_bytes is None:
            return stream
        finer = [f for f in MAP_FACTORS if f < packets.map_factor]
        if self.params["enhancement"] != "none":
            finer = [f for f in finer if f in find(ZOO, packets.rate).map_weights]
        for factor in sorted(finer):  # finest first
            key = (self.recipe.key, image_digest(image), image_digest(labels), packets.rate, factor)
            finer = _FINER.get(
                key, lambda f=factor: pack(self._packets(image, x, labels, packets.rate, f))
            )
            if len(finer) <= max_bytes:
                return finer
        return stream

    @staticmethod
    def _left_out(packets: Packets, max_bytes: int) -> bytes | None:
        """The stream of ``packets`` (the smallest rate point) with latent packets left out, bottom
        band first, until it fits ``max_bytes``: a left-out packet is sent empty and its band is
        regenerated from the map alone, down to the map alone; None if even that does not fit."""
        latent = list(packets.latent_packets)
        for i in reversed(range(len(latent))):
            latent[i] = b""
            stream = pack(replace(packets, latent_packets=tuple(latent)))
            if len(stream) <= max_bytes:
                return stream
        return None

    def _coarser_map(self, packets: Packets, labels: np.ndarray, max_bytes: int) -> bytes:
        """The map alone (every latent packet left out) at the finest resolution coarser than
        ``packets``' that fits ``max_bytes``.

        :raises BudgetTooSmall: even the map at the coarsest resolution does not fit.
        """
        empty = tuple(b"" for _ in packets.latent_packets)
        for factor in (f for f in MAP_FACTORS if f > packets.map_factor):
            small = downscale_map(labels, factor)
            coarse = replace(packets, map_factor=factor, map_packet=encode_labels(small))
            stream = pack(replace(coarse, latent_packets=empty))
            if len(stream) <= max_bytes:
                return stream
        raise BudgetTooSmall(self.name, max_bytes, len(stream))

    def encode_enhancement(self, image: np.ndarray, base: bytes, max_bytes: int) -> bytes:
        """The residual of ``image`` over the decoded ``base`` layer in at most ``max_bytes`` bytes
        (the configured level's size if smaller); empty with ``enhancement: none``."""
        level = self.params["enhancement"]
        if level == "none":
            return b""
        height, width = check_image(image)
        if level != "auto":
            max_bytes = min(max_bytes, int(ENHANCEMENT_BPP[level] * height * width / 8))
        if max_bytes <= 0:
            return b""
        reconstruction = _MEMO.get(
            ("base", self.recipe.key, hashlib.sha1(base).digest(), height, width),
            lambda: read_only(self.decode(base, height, width)),
        )
        codec, mode = self.params["enhancement_codec"], self.params["enhancement_mode"]
        return encode_enhancement(image, reconstruction, max_bytes, codec, mode)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Image uint8 [height, width, 3] from a complete stream; :class:`DecodeError` if broken."""
        return self.decode_with_erasures(data, height, width, None)

    def decode_with_erasures(
        self, data: bytes, height: int, width: int, erased_bytes: np.ndarray | None
    ) -> np.ndarray:
        """Image from a stream some of whose bytes were lost.

        :param erased_bytes: bool [len(data)], True where the byte was lost (None = none). A latent
            packet with a lost byte is dropped: its band of the latent is set to each channel's
            expected value and the generator fills it from the map. An enhancement layer with a lost
            byte is dropped: the base reconstruction is shown.
        :return: uint8 [height, width, 3].
        :raises DecodeError: the header or the map packet was lost, or the stream is malformed.
        """
        [base] = self._synthesise([self.receive(data, height, width, erased_bytes)], height, width)
        packets = unpack(bytes(data), _padded_size(height, width)[0] // DOWNSAMPLING)
        layer = packets.enhancement
        if layer and erased_bytes is not None:
            start, end = packets.spans[-1]
            layer = b"" if np.asarray(erased_bytes, dtype=bool)[start:end].any() else layer
        return self._refine(base, layer or None)

    def decode_layers(
        self,
        base: bytes,
        base_erased: np.ndarray | None,
        enhancement: bytes | None,
        height: int,
        width: int,
    ) -> np.ndarray:
        """See :meth:`LayeredCodec.decode_layers`: the base with its erasures, refined by the
        enhancement layer when it arrived and decodes."""
        return self._refine(
            self.decode_with_erasures(base, height, width, base_erased), enhancement
        )

    def decode_layers_batch(
        self, received: Sequence[ReceivedLayers], height: int, width: int
    ) -> list[np.ndarray | None]:
        """See :meth:`LayeredCodec.decode_layers_batch`: every image's entropy decoding, then the
        generator over batches of :attr:`network_batch_size` images of one rate point, then each
        image's enhancement."""
        inputs = each_or_none(
            lambda item: self.receive(item.base, height, width, item.base_erased), received
        )
        bases = self._synthesise(inputs, height, width)
        return [
            None if base is None else self._refine(base, item.enhancement)
            for base, item in zip(bases, received, strict=True)
        ]

    @torch.no_grad()
    def _synthesise(
        self, inputs: Sequence[GeneratorInput | None], height: int, width: int
    ) -> list[np.ndarray | None]:
        """The generator's images (uint8 [height, width, 3]) from :meth:`receive`'s outputs (None
        stays None), consecutive images of the same rate point in batches of
        :attr:`network_batch_size`."""
        size = _padded_size(height, width)
        images: list[np.ndarray | None] = [None] * len(inputs)
        rates = [None if item is None else (item.rate, item.map_factor) for item in inputs]
        for chunk in network_batches(rates, self.network_batch_size):
            batch_inputs = [inputs[i] for i in chunk]
            latent = torch.cat([item.latent for item in batch_inputs]).to(self.device)
            segmap = torch.cat([_segmap(item.labels, size) for item in batch_inputs])
            segmap = segmap.to(self.device)
            rate, factor = rates[chunk[0]]
            model = _model(rate, self.device, factor)
            batch = model.synthesise(latent, segmap)[:, :, :height, :width]
            pixels = from_signed(batch)
            for i, image in zip(chunk, pixels.cpu().numpy(), strict=True):
                images[i] = image
        return images

    def _refine(self, base: np.ndarray, layer: bytes | None) -> np.ndarray:
        """``base`` plus the decoded residual; ``base`` itself if there is none or it fails."""
        if not layer:
            return base
        refined = decode_enhancement(layer, base, self.params["enhancement_codec"])
        return base if refined is None else refined

    def receive(
        self, data: bytes, height: int, width: int, erased_bytes: np.ndarray | None = None
    ) -> GeneratorInput:
        """The entropy-decoding half of the receiver: what the generator is given.

        :param erased_bytes: as in :meth:`decode_with_erasures`.
        :return: the rate point, the label map and the latent (see :class:`GeneratorInput`).
        :raises DecodeError: as in :meth:`decode_with_erasures`.
        """
        size = _padded_size(height, width)
        latent_h, latent_w = size[0] // DOWNSAMPLING, size[1] // DOWNSAMPLING
        packets = unpack(bytes(data), latent_h)
        lost = [False] * len(packets.base_spans)
        if erased_bytes is not None:
            erased = np.asarray(erased_bytes, dtype=bool)
            if erased.shape != (len(data),):
                raise ValueError(f"erased_bytes must be bool [{len(data)}], got {erased.shape}")
            lost = [bool(erased[a:b].any()) for a, b in packets.base_spans]
        if lost[0] or lost[1]:
            raise DecodeError("semantic_gan: the header or the semantic map packet was lost")
        # The CPU copy: entropy decoding and dequantisation.
        model = _model(packets.rate, map_factor=packets.map_factor)
        try:
            labels = self._decode_map(packets, height, width)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"semantic_gan: the map packet does not decode ({exc})") from exc
        pmf = model.pmf()
        latent = (pmf * model.quantizer.centres.double()).sum(1).float()  # expected values [C]
        latent = latent[None, :, None, None].repeat(1, 1, latent_h, latent_w)
        bounds = stripe_bounds(latent_h, packets.rows)
        for (top, end), packet, gone in zip(bounds, packets.latent_packets, lost[2:], strict=True):
            if not gone and packet:  # an empty packet was left out by the encoder
                symbols = self._decode_stripe(packet, pmf.numpy(), end - top, latent_w)
                latent[0, :, top:end] = model.quantizer.dequantize(torch.from_numpy(symbols).long())
        return GeneratorInput(packets.rate, labels, latent, packets.map_factor)

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
