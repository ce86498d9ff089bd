"""How an image crosses the link: one :class:`Transport` per codec, chosen once.

A transport plans a sweep point (:meth:`Transport.plan`: the MCS and the byte budget that K channel
uses carry) and delivers every image of the point (:meth:`Transport.deliver`), returning what the
receiver shows and what it cost (:class:`Delivery`). The implementations are
:class:`~simulator.link.digital.DigitalTransport` (bytes over one :class:`~channels.phy.DigitalLink`),
:class:`~simulator.link.layered.LayeredTransport` (base and enhancement layers, each on its own MCS),
:class:`~simulator.link.analog.AnalogTransport` (channel symbols, no bits) and
:class:`~simulator.link.digital.ReferenceTransport` (the error-free reference).
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

import numpy as np
import torch

from channels import Channel, channel_family
from channels.base import channel_data_symbols
from channels.phy import MCS, DigitalLink, FECConfig, LinkResult
from channels.phy.adaptation import Layer, adapt_mcs
from channels.phy.measure_tables import candidate_mcs
from simulator.data import Sample
from simulator.link.sweep import SweepPoint, num_channel_symbols
from simulator.link.threads import map_side_by_side
from source_codecs import BudgetTooSmall, CodecBase, SourceCodec
from source_codecs.lru import LRUCache, read_only

__all__ = [
    "DecodeCache",
    "Delivery",
    "EncodeCache",
    "encode_threads",
    "LinkSetup",
    "Plan",
    "Status",
    "Transport",
    "received_key",
]

Status = Literal["ok", "decoded_with_errors", "partial", "crc_fail", "decode_error", "no_fit"]
"""What happened to one image; see :class:`Delivery`."""


@dataclass(frozen=True)
class Delivery:
    """What the receiver shows for one image, and what it cost.

    ``status`` is one of ``ok`` (decoded from an error-free stream), ``decoded_with_errors``
    (``on_error: decode`` and the decoder returned an image), ``partial`` (a layered codec lost
    packets or its enhancement layer and decoded what survived), ``crc_fail`` (a codeword failed and the
    fallback is shown), ``decode_error`` (the decoder raised, hung, crashed or returned a malformed image),
    ``no_fit`` (the codec cannot go as low as the budget: nothing was sent).

    Build one with a named constructor: :meth:`error_free`, :meth:`received`, :meth:`lost`,
    :meth:`no_fit`.
    """

    image: np.ndarray  # uint8 [H, W, 3]
    num_bytes: int | None  # bytes sent; None when nothing fits (or an analog scheme: no bytes)
    bit_errors: int
    num_bits: int
    codeword_errors: int
    num_codewords: int
    status: Status
    layer_codewords: tuple[int, ...] = ()  # codewords sent on each of the plan's links, in order

    @classmethod
    def no_fit(cls, fallback: np.ndarray) -> Delivery:
        """Nothing was sent (the codec cannot fit the budget); the receiver shows ``fallback``."""
        return cls(fallback, None, 0, 0, 0, 0, "no_fit")

    @classmethod
    def error_free(cls, image: np.ndarray, num_bytes: int | None = None) -> Delivery:
        """``image`` arrived without a bit or codeword to count (the reference, an analog scheme)."""
        return cls(image, num_bytes, 0, 0, 0, 0, "ok")

    @classmethod
    def received(
        cls, image: np.ndarray, num_bytes: int, results: Sequence[LinkResult], status: Status
    ) -> Delivery:
        """``image`` decoded from ``num_bytes`` sent bytes, counting the errors of every
        :class:`~channels.phy.LinkResult` they crossed the link in (one per layer)."""
        return cls(
            image,
            num_bytes,
            sum(r.bit_errors for r in results),
            sum(r.num_bits for r in results),
            sum(int(np.count_nonzero(~r.codeword_ok)) for r in results),
            sum(r.num_codewords for r in results),
            status,
            tuple(r.num_codewords for r in results),
        )

    @classmethod
    def lost(
        cls,
        fallback: np.ndarray,
        num_bytes: int,
        results: Sequence[LinkResult],
        status: Status = "crc_fail",
    ) -> Delivery:
        """The image was sent but the receiver shows ``fallback`` (``crc_fail`` or ``decode_error``)."""
        return cls.received(fallback, num_bytes, results, status)

    def with_image(self, image: np.ndarray | None) -> Delivery:
        """This delivery showing ``image``; None (the decoder failed) makes it a ``decode_error``."""
        return replace(self, status="decode_error") if image is None else replace(self, image=image)

    @property
    def decoded(self) -> bool:
        """True when the codec's decoder produced the image (not the fallback)."""
        return self.status in ("ok", "decoded_with_errors", "partial")


def codec_stream(
    codec: SourceCodec, image: np.ndarray, labels: np.ndarray | None, budget: int
) -> bytes | None:
    """``codec``'s stream for ``image`` (uint8 [H, W, 3]; ``labels`` uint8 [H, W] or None) within
    ``budget`` bytes, or None if it cannot fit."""
    try:
        return codec.encode(image, budget, labels=labels)
    except BudgetTooSmall:
        return None


class EncodeCache:
    """Encoded streams by (codec row, image, byte budget): the same budget recurs across SNR points."""

    def __init__(self) -> None:
        self._streams: dict[tuple, Any] = {}

    def get_all(
        self, keys: Sequence[tuple], computes: Sequence[Callable[[], Any]], threads: int
    ) -> list[Any]:
        """The value of each key, computed the first time (``computes[j]`` computes ``keys[j]``'s
        value); those not cached side by side within ``threads`` torch threads
        (:func:`~simulator.link.threads.map_side_by_side`; 1: one after another, as they are)."""
        todo = [j for j, key in enumerate(keys) if key not in self._streams]
        values = map_side_by_side([computes[j] for j in todo], threads)
        self._streams.update((keys[j], value) for j, value in zip(todo, values, strict=True))
        return [self._streams[key] for key in keys]

    def encode_all(
        self, codec_key: str, codec: SourceCodec, samples: Sequence[Sample], budget: int
    ) -> list[bytes | None]:
        """The codec's stream of every sample (``samples[i]`` is image ``i``) within ``budget``
        bytes, None where it cannot fit; see :func:`encode_threads`."""
        keys = [(codec_key, i, budget) for i in range(len(samples))]
        jobs = [partial(codec_stream, codec, s.image, s.labels, budget) for s in samples]
        return self.get_all(keys, jobs, encode_threads(codec))


def encode_threads(codec: CodecBase) -> int:
    """The torch threads a point's encodes share side by side: all of torch's where the codec allows
    it (:attr:`SourceCodec.concurrent_encodes`), else 1 (one encode after another, on torch's threads
    as they are)."""
    return torch.get_num_threads() if getattr(codec, "concurrent_encodes", False) else 1


DECODE_CACHE_BYTES = 512 << 20
"""Bound on the decoded images :class:`DecodeCache` keeps (a 256x512 image is 384 KiB)."""


def received_key(*parts: bytes | np.ndarray | None) -> bytes:
    """SHA-1 of what a receiver got (streams, erasure masks, None for a lost layer): the part of a
    decode cache key that says what was decoded."""
    digest = hashlib.sha1()
    for part in parts:
        data = b"" if part is None else part.tobytes() if isinstance(part, np.ndarray) else part
        digest.update(len(data).to_bytes(8, "little") + (b"-" if part is None else b"+") + data)
    return digest.digest()


class DecodeCache:
    """Decoded images by (codec row, image, what arrived): the same stream arrives intact at many
    points (every SNR point where the MCS and so the budget is the same, and every error-free
    attempt), and decoders are deterministic, so it is decoded once. The least recently used images
    go first beyond ``max_bytes``.
    """

    def __init__(self, max_bytes: int = DECODE_CACHE_BYTES) -> None:
        self._images: LRUCache[np.ndarray | None] = LRUCache(
            max_bytes, lambda image: 0 if image is None else image.nbytes
        )

    def decode(
        self,
        keys: Sequence[Hashable],
        decode: Callable[[list[int]], Sequence[np.ndarray | None]],
    ) -> list[np.ndarray | None]:
        """The images of ``keys``; ``decode(positions)`` decodes those not cached, in one batch,
        returning a uint8 [H, W, 3] image (or None: the decoder found nothing to show) for each."""
        out: list[np.ndarray | None] = []
        missing = []
        for j, key in enumerate(keys):
            if key in self._images:
                out.append(self._images.peek(key))
            else:
                missing.append(j)
                out.append(None)
        for j, image in zip(missing, decode(missing) if missing else [], strict=True):
            out[j] = image if image is None else read_only(image)
            self._images.put(keys[j], out[j])
        return out


@dataclass
class LinkSetup:
    """What every transport of one simulator shares: the channels, the FEC and MCS settings, the
    image shape and fallback, the device, and the caches of encoded streams and of links.

    :param channels: channel models by their row name (``ChannelSpec.display_name``).
    :param mcs: ``link.mcs`` (``"auto"``, ``"envelope"`` or a fixed MCS); ``base_mcs``:
        ``link.base_mcs`` (``"auto"`` or a fixed MCS).
    :param shape: (H, W) of the images.
    :param fallback: uint8 [H, W, 3], shown for lost images.
    """

    channels: dict[str, Channel]
    fec: FECConfig
    mcs: Literal["auto", "envelope"] | MCS
    base_mcs: Literal["auto"] | MCS
    on_error: str
    shape: tuple[int, int]
    fallback: np.ndarray
    device: torch.device
    encodes: EncodeCache = field(default_factory=EncodeCache)
    decodes: DecodeCache = field(default_factory=DecodeCache)
    _links: dict[tuple[str, MCS], DigitalLink] = field(default_factory=dict)

    def channel(self, point: SweepPoint) -> Channel:
        """The channel model of ``point``."""
        return self.channels[point.channel.display_name]

    def num_symbols(self, point: SweepPoint) -> int:
        """K, the complex channel uses per image at ``point``'s bandwidth ratio."""
        return num_channel_symbols(point.bandwidth_ratio, *self.shape)

    @property
    def envelope_mcs(self) -> list[MCS]:
        """The MCS that ``link.mcs: envelope`` tries at each point: the set ``mcs: auto`` picks from
        (:func:`~channels.phy.measure_tables.candidate_mcs`), most robust first."""
        return candidate_mcs(self.fec)

    def mcs_for(self, point: SweepPoint, layer: Layer = "single") -> MCS:
        """The fixed MCS of ``layer`` (``link.base_mcs`` for ``base``, else ``link.mcs``), or the
        one link adaptation picks at this SNR for this channel's family (:func:`adapt_mcs`), bounding
        the loss of every data symbol of the point's K channel uses. ``link.mcs: envelope`` has no
        single MCS: its transports ask for each of :attr:`envelope_mcs` (:meth:`Transport.plans`)."""
        mcs = self.base_mcs if layer == "base" else self.mcs
        if mcs == "envelope":
            raise ValueError("link.mcs: envelope has no single MCS; plan each of envelope_mcs")
        if mcs == "auto":
            family = channel_family(self.channel(point))
            data = channel_data_symbols(self.channel(point), self.num_symbols(point))
            return adapt_mcs(point.snr_db, self.fec, family, data, layer)
        return mcs

    def link(
        self, point: SweepPoint, layer: Layer = "single", mcs: MCS | None = None
    ) -> DigitalLink:
        """The digital link of ``layer`` at ``point``, built once per (channel, MCS): on ``mcs``
        if given (a candidate of ``link.mcs: envelope``), else on :meth:`mcs_for`."""
        mcs = mcs or self.mcs_for(point, layer)
        key = (point.channel.display_name, mcs)
        if key not in self._links:
            self._links[key] = DigitalLink(mcs, self.fec, self.channel(point))
        return self._links[key]


@dataclass(frozen=True)
class Plan:
    """A point as a transport will send it.

    :param point: the sweep point.
    :param num_symbols: K, complex channel uses per image.
    :param links: the digital links used, one per layer (none for analog and reference transports).
    :param mcs: the ``mcs`` column: the links' MCS names joined by ``+``, empty without links.
    :param budget: the ``payload_bytes`` column: bytes the first link carries in K uses (NaN without).
    """

    point: SweepPoint
    num_symbols: int
    links: tuple[DigitalLink, ...] = ()

    @property
    def mcs(self) -> str:
        return "+".join(link.mcs.name for link in self.links)

    def mcs_sent(self, deliveries: Sequence[Delivery]) -> str:
        """The ``mcs`` column after sending: :attr:`mcs`, less every link after the first that
        carried no codeword of any image (a layered codec whose enhancement layer got no room)."""
        used = [
            link.mcs.name
            for i, link in enumerate(self.links)
            if i == 0
            or any(len(d.layer_codewords) > i and d.layer_codewords[i] for d in deliveries)
        ]
        return "+".join(used)

    @property
    def budget(self) -> float:
        return self.links[0].payload_bytes(self.num_symbols) if self.links else math.nan


class Transport(ABC):
    """One way for an image to cross the link; see the module docstring.

    :cvar carries_bits: True when the rows have bit and codeword error counts (digital transports,
        whose links follow ``link.mcs``).
    """

    carries_bits: bool = True

    def __init__(self, setup: LinkSetup, codec: CodecBase) -> None:
        self.setup, self.codec = setup, codec

    def plan(self, point: SweepPoint, mcs: MCS | None = None) -> Plan:
        """The MCS and budget of ``point``; the default has no link.

        :param mcs: the MCS of the link ``link.mcs`` governs (a candidate of ``mcs: envelope``);
            None = ``link.mcs``'s own choice.
        """
        return Plan(point, self.setup.num_symbols(point))

    def plans(self, point: SweepPoint) -> list[Plan]:
        """What ``point`` tries: under ``link.mcs: envelope`` one plan per MCS of
        :attr:`LinkSetup.envelope_mcs` for a transport that carries bits (the pipeline keeps the
        best-scoring), else the one :meth:`plan` (also for the reference and analog schemes, which
        have no MCS)."""
        if self.setup.mcs == "envelope" and self.carries_bits:
            return [self.plan(point, mcs) for mcs in self.setup.envelope_mcs]
        return [self.plan(point)]

    @abstractmethod
    def deliver(self, samples: Sequence[Sample], plan: Plan) -> list[Delivery]:
        """Send every sample's image as ``plan`` says; one :class:`Delivery` per sample, in order."""
