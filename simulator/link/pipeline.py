"""The link pipeline: data -> source codec -> physical layer and channel -> decoder -> metrics, per point."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sionna.phy
import torch

from channels import Channel, ChannelConfigError, make_channel
from channels.phy import FECConfig
from simulator.config import Config, ConfigError
from simulator.data import DataConfigError, Sample, make_source
from simulator.link.analog import AnalogTransport
from simulator.link.digital import DigitalTransport, ReferenceTransport
from simulator.link.layered import LayeredTransport
from simulator.link.scoring import PointScores, Scorer, metric_batch_size, segment_images
from simulator.link.sweep import SweepPoint, derive_seed, num_channel_symbols
from simulator.link.transport import Delivery, LinkSetup, Plan, Transport
from simulator.metrics import scores_better
from simulator.output.gallery import gallery_snrs, thumbnail_png
from simulator.output.results import THUMBNAIL_KEY
from source_codecs import CodecBase, CodecConfigError, check_codec, make_codec
from source_codecs.conformance import check_output_image
from source_codecs.layered import LayeredCodec

__all__ = ["LinkSimulator", "PointResult", "resolve_device", "transport_for"]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the first CUDA device if there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError([f"device: '{name}' requested but no CUDA device is available"])
    return torch.device(name)


@dataclass
class PointResult:
    """A finished point: its ``summary.csv`` row and its ``per_image.csv`` rows. At the gallery's
    SNRs (:func:`~simulator.output.gallery.gallery_snrs`) the first ``output.gallery_images`` per-image rows
    also carry the PNG thumbnail of what the receiver showed (:data:`~simulator.output.results.THUMBNAIL_KEY`),
    which :meth:`~simulator.output.results.ResultStore.write_point` stores as a file."""

    summary: dict[str, Any]
    per_image: list[dict[str, Any]]


def _build_all(
    entries: list[tuple[str, str, str, dict[str, Any]]],
    factory: Callable[[str, dict[str, Any]], Any],
    error: type[Exception],
) -> tuple[dict[str, Any], list[str]]:
    """Build each (row name, key path, registered name or plug-in reference, params); returns what was
    built and one line per failure naming its key path (not raised, so that every problem of a
    configuration is reported at once). A plug-in's constructor failing in any way is such a line."""
    built, problems = {}, []
    for row, key, name, params in entries:
        try:
            built[row] = factory(name, params)
        except error as exc:
            problems.append(f"{key}: {exc}")
        except Exception as exc:  # noqa: BLE001 - only a plug-in's own constructor is caught here
            if ":" not in name:
                raise
            problems.append(f"{key}: constructing '{name}' failed: {type(exc).__name__}: {exc}")
    return built, problems


def transport_for(codec: CodecBase, setup: LinkSetup) -> Transport:
    """The one way ``codec``'s images cross the link: by its ``kind`` (``reference``, ``analog``,
    ``digital``), a digital :class:`~source_codecs.layered.LayeredCodec` in layers."""
    if codec.kind == "reference":
        return ReferenceTransport(setup, codec)
    if codec.kind == "analog":
        return AnalogTransport(setup, codec)
    if isinstance(codec, LayeredCodec):
        return LayeredTransport(setup, codec)
    return DigitalTransport(setup, codec)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


class LinkSimulator:
    """Runs sweep points of one configuration; everything expensive is built once here.

    Construction builds every codec and channel, loads the data and sends the first image once through
    each plug-in codec (:func:`~source_codecs.check_codec`); every problem found (a constructor that
    fails, an output of the wrong shape, a device or data source that is not there) is collected and
    raised as one :class:`ConfigError`, a line per problem naming its key path. The metric networks
    are loaded when the first point is scored.
    """

    def __init__(self, config: Config, log: Callable[[str], None] = print) -> None:
        self.config = config
        problems: list[str] = []
        try:
            self.device = resolve_device(config.device)
        except ConfigError as exc:
            problems.extend(exc.problems)
            self.device = torch.device("cpu")
        sionna.phy.config.device = str(self.device)
        codecs, codec_problems = self._build_codecs()
        channels, channel_problems = self._build_channels()
        problems += codec_problems + channel_problems
        self.codecs: dict[str, CodecBase] = {
            row: codec.to(str(self.device)) for row, codec in codecs.items()
        }  # learned codecs run their networks on the simulator's device
        self.channels: dict[str, Channel] = channels
        self._transmitter_segmenter: torch.nn.Module | None = None
        self._segmented: list[Sample] | None = None  # see coded_samples
        try:
            self.samples = self._load_samples()
        except ConfigError as exc:
            problems.extend(exc.problems)
            self.samples = []
        else:
            problems += self._unlabelled() + self._load_transmitter_segmenter()
            problems += self._check_plugins()
        if problems:
            raise ConfigError(problems)
        self.shape = (config.data.height, config.data.width)
        mean = np.asarray(self.source.mean_color, dtype=np.float64)
        self.fallback = np.broadcast_to(
            np.round(mean).clip(0, 255).astype(np.uint8), (*self.shape, 3)
        ).copy()
        link = config.link
        self.fec: FECConfig = link.fec
        self.setup = LinkSetup(
            self.channels,
            self.fec,
            link.mcs,
            link.base_mcs,
            link.on_error,
            self.shape,
            self.fallback,
            self.device,
        )
        self.transports = {row: transport_for(c, self.setup) for row, c in self.codecs.items()}
        self._log = log
        self._scorer: Scorer | None = None

    @property
    def scorer(self) -> Scorer:
        """The metric networks, loaded on first use (validating a configuration does not need them)."""
        if self._scorer is None:
            segmenter = self._segmenter(self._log)
            self._scorer = Scorer(
                self.config.metrics,
                self.samples,
                self.device,
                segmenter,
                metric_batch_size(self.device),
            )
            for note in self._scorer.notes:
                self._log(note)
        return self._scorer

    def _map_source(self, row: str) -> str | None:
        """Where codec row ``row``'s semantic map comes from on this data source (``labels``,
        ``segmenter`` or None: see :meth:`~source_codecs.CodecBase.semantic_map`)."""
        return self.codecs[row].semantic_map(self.source.has_labels)

    def _unlabelled(self) -> list[str]:
        """A codec that codes the source's label maps, on a source without them."""
        if self.source.has_labels:
            return []
        problems = []
        for i, spec in enumerate(self.config.codecs):
            row = spec.display_name
            if row not in self.codecs or self._map_source(row) != "labels":
                continue
            chosen = "semantic_map" in spec.params  # asked for; else a codec without the choice
            key = f"codecs[{i}].params.semantic_map" if chosen else f"codecs[{i}].name"
            fix = "semantic_map: segmenter or auto, or " if chosen else ""
            problems.append(
                f"{key}: '{spec.name}' needs semantic labels, and data.source "
                f"'{self.config.data.source}' has none; use {fix}a labelled source (synthetic, "
                "cityscapes, folder with labels/)"
            )
        return problems

    def _load_transmitter_segmenter(self) -> list[str]:
        """Load the shipped segmenter if a codec's transmitter segments its images (semantic map
        ``segmenter``): the network that the ``miou`` judge also is unless the configuration names
        its own. Its absence is a configuration problem of the first such codec."""
        rows = [(i, s.display_name) for i, s in enumerate(self.config.codecs)]
        wanting = [
            i for i, row in rows if row in self.codecs and self._map_source(row) == "segmenter"
        ]
        if not wanting:
            return []
        from simulator.metrics.segmentation import load_segmenter

        try:
            self._transmitter_segmenter = load_segmenter(self.device)
        except FileNotFoundError as exc:
            return [f"codecs[{wanting[0]}].params.semantic_map: segmenter: {exc}"]
        return []

    def coded_samples(self, row: str) -> list[Sample]:
        """The samples codec row ``row`` encodes: the source's, or with ``labels`` replaced by the
        shipped segmenter's prediction of each image where the codec's semantic map is
        ``segmenter`` (uint8 [H, W] trainIds, predicted once per run, on first use)."""
        if self._map_source(row) != "segmenter":
            return self.samples
        if self._segmented is None:
            images = [s.image for s in self.samples]
            maps = segment_images(
                self._transmitter_segmenter, images, self.device, metric_batch_size(self.device)
            )
            self._segmented = [
                replace(s, labels=m) for s, m in zip(self.samples, maps, strict=True)
            ]
        return self._segmented

    def _check_plugins(self) -> list[str]:
        """Each plug-in codec (``"package.module:ClassName"``) sends the first image once, at its
        default quality (an analog one in the sweep's smallest K), so that an output of the wrong
        type or shape is a configuration problem, not a failure inside the sweep."""
        problems = []
        height, width = self.config.data.height, self.config.data.width
        k = min(num_channel_symbols(r, height, width) for r in self.config.link.bandwidth_ratio)
        for i, spec in enumerate(self.config.codecs):
            codec = self.codecs.get(spec.display_name)
            if ":" not in spec.name or codec is None:
                continue
            source = self._map_source(spec.display_name)
            if source == "labels" and not self.source.has_labels:
                continue  # already a problem of its own
            sample = self.coded_samples(spec.display_name)[0]
            labels = sample.labels if source else None
            try:
                check_codec(codec, sample.image, labels, num_symbols=k, snr_db=10.0)
            except CodecConfigError as exc:
                problems.append(f"codecs[{i}]: {exc}")
        return problems

    def _build_codecs(self) -> tuple[dict[str, CodecBase], list[str]]:
        specs = self.config.codecs
        return _build_all(
            [
                (s.display_name, f"codecs[{i}].params", s.name, s.params)
                for i, s in enumerate(specs)
            ],
            make_codec,
            CodecConfigError,
        )

    def _build_channels(self) -> tuple[dict[str, Channel], list[str]]:
        specs = self.config.channel
        keys = [f"channel[{i}]" if len(specs) > 1 else "channel" for i in range(len(specs))]
        return _build_all(
            [(s.display_name, k, s.model, s.params) for k, s in zip(keys, specs, strict=True)],
            make_channel,
            ChannelConfigError,
        )

    def _load_samples(self) -> list[Sample]:
        data = self.config.data
        try:
            self.source = make_source(
                data.source,
                root=data.root,
                num_images=data.num_images,
                height=data.height,
                width=data.width,
                seed=self.config.seed,
                split=data.split,
            )
        except DataConfigError as exc:
            raise ConfigError([f"data: {exc}"]) from None
        return [self.source[i] for i in range(len(self.source))]

    def _segmenter(self, log: Callable[[str], None]) -> torch.nn.Module | None:
        if "miou" not in self.config.metrics:
            return None
        from simulator.metrics.segmentation import load_segmenter, load_torchscript_segmenter

        spec = self.config.segmenter
        try:
            if spec.torchscript:
                return load_torchscript_segmenter(spec.torchscript, spec.class_map, self.device)
            if self._transmitter_segmenter is not None:
                return self._transmitter_segmenter  # the same shipped network, loaded once
            return load_segmenter(self.device)
        except FileNotFoundError as exc:
            log(f"miou: not computed: {exc}")
            return None

    def run_point(self, point: SweepPoint) -> PointResult:
        """Simulate and score one point. Under ``link.mcs: envelope`` a digital codec's point is
        sent once per MCS of the set (:meth:`Transport.plans`), every attempt on the same noise and
        fading, and the attempt that scores best by :attr:`Config.envelope_metric` is reported (its
        MCS in the ``mcs`` column; a tie goes to the more robust MCS, a NaN score never wins)."""
        transport = self.transports[point.codec.display_name]
        seed = derive_seed(
            self.config.seed, point.channel.display_name, point.bandwidth_ratio, point.snr_db
        )
        metric = self.config.envelope_metric
        best: tuple[Plan, list[Delivery], PointScores] | None = None
        for plan in transport.plans(point):
            sionna.phy.config.seed = seed  # also seeds torch's global generator
            deliveries, scores = self._attempt(transport, plan)
            if best is None or scores_better(
                metric, scores.summary.get(metric, math.nan), best[2].summary.get(metric, math.nan)
            ):
                best = (plan, deliveries, scores)
        plan, deliveries, scores = best
        return self._rows(plan, transport.carries_bits, deliveries, scores)

    def _attempt(self, transport: Transport, plan: Plan) -> tuple[list[Delivery], PointScores]:
        """Deliver every sample as ``plan`` says and score what the receiver shows."""
        deliveries = transport.deliver(self.coded_samples(plan.point.codec.display_name), plan)
        # a plug-in's decoder could return anything: one line, not a crash later
        for d in deliveries:
            check_output_image(
                f"codec '{plan.point.codec.display_name}'", "decoding", d.image, (*self.shape, 3)
            )
        return deliveries, self.scorer.score_point([d.image for d in deliveries])

    def _rows(
        self, plan: Plan, carries_bits: bool, deliveries: list[Delivery], scores: PointScores
    ) -> PointResult:
        point = plan.point
        pixels = self.shape[0] * self.shape[1]
        no_bits = not carries_bits  # reference and analog rows have no bit or codeword errors
        ident = {
            "codec": point.codec.display_name,
            "channel": point.channel.display_name,
            "snr_db": point.snr_db,
            "bandwidth_ratio": point.bandwidth_ratio,
        }
        per_image = []
        for sample, d, values in zip(self.samples, deliveries, scores.per_image, strict=True):
            per_image.append(
                {
                    **ident,
                    "image_id": sample.image_id,
                    "bpp": math.nan if d.num_bytes is None else 8 * d.num_bytes / pixels,
                    "ber": math.nan if no_bits else _ratio(d.bit_errors, d.num_bits),
                    "bler": math.nan if no_bits else _ratio(d.codeword_errors, d.num_codewords),
                    "decoded": int(d.decoded),
                    "status": d.status,
                    **values,
                }
            )
        if point.snr_db in gallery_snrs(self.config.link.snr_db):
            keep = self.config.output.gallery_images
            for row, d in zip(per_image[:keep], deliveries, strict=False):
                row[THUMBNAIL_KEY] = thumbnail_png(d.image)  # what the receiver showed
        sent = [d for d in deliveries if d.num_bytes is not None]
        n = len(deliveries)
        summary = {
            **ident,
            "num_symbols": plan.num_symbols,
            "mcs": plan.mcs_sent(deliveries),
            "payload_bytes": plan.budget,
            "bpp": float(np.mean([8 * d.num_bytes / pixels for d in sent])) if sent else math.nan,
            "ber": math.nan
            if no_bits
            else _ratio(sum(d.bit_errors for d in sent), sum(d.num_bits for d in sent)),
            "bler": math.nan
            if no_bits
            else _ratio(sum(d.codeword_errors for d in sent), sum(d.num_codewords for d in sent)),
            "decode_failure_rate": sum(not d.decoded for d in deliveries) / n,
            "fit_failure_rate": sum(d.status == "no_fit" for d in deliveries) / n,
            **scores.summary,
            "n_images": n,
        }
        return PointResult(summary, per_image)
