"""The link pipeline: data -> source codec -> physical layer and channel -> decoder -> metrics, per point."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sionna.phy
import torch

from channels import ChannelConfigError, channel_family, make_channel
from channels.base import channel_data_symbols
from channels.phy import MCS, DigitalLink, FECConfig
from channels.phy.adaptation import Layer, adapt_mcs
from simulator.analog import deliver_analog
from simulator.config import Config, ConfigError
from simulator.data import DataConfigError, Sample, make_source
from simulator.digital import Delivery, EncodeCache, deliver_digital, deliver_reference
from simulator.layered import deliver_layered
from simulator.scoring import Scorer, metric_batch_size
from simulator.sweep import SweepPoint, derive_seed, num_channel_symbols
from source_codecs import CodecBase, CodecConfigError, make_codec
from source_codecs.layered import LayeredCodec

__all__ = ["LinkSimulator", "PointResult", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the first CUDA device if there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError([f"device: '{name}' requested but no CUDA device is available"])
    return torch.device(name)


@dataclass
class PointResult:
    """A finished point: its ``summary.csv`` row and its ``per_image.csv`` rows."""

    summary: dict[str, Any]
    per_image: list[dict[str, Any]]


def _build_all(
    entries: list[tuple[str, str, str, dict[str, Any]]],
    factory: Callable[[str, dict[str, Any]], Any],
    error: type[Exception],
) -> dict[str, Any] | ConfigError:
    """Build each (row name, key path, registered name, params); the failures are returned (not raised)
    as one :class:`ConfigError` with a line per failure naming its key path, so that every problem of a
    configuration is reported at once."""
    built, problems = {}, []
    for row, key, name, params in entries:
        try:
            built[row] = factory(name, params)
        except error as exc:
            problems.append(f"{key}: {exc}")
    return ConfigError(problems) if problems else built


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


class LinkSimulator:
    """Runs sweep points of one configuration; everything expensive is built once here.

    Construction validates what only the registries can: codec parameters and channel parameters
    (raising :class:`ConfigError` with the key path), and loads the data; the metric networks are
    loaded when the first point is scored.
    """

    def __init__(self, config: Config, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        sionna.phy.config.device = str(self.device)
        codecs, channels = self._build_codecs(), self._build_channels()
        problems = [
            p
            for built in (codecs, channels)
            if isinstance(built, ConfigError)
            for p in built.problems
        ]
        if problems:
            raise ConfigError(problems)
        self.codecs: dict[str, CodecBase] = {
            row: codec.to(str(self.device)) for row, codec in codecs.items()
        }  # learned codecs run their networks on the simulator's device
        self.channels: dict[str, torch.nn.Module] = channels
        self.samples = self._load_samples()
        unlabelled = [
            f"codecs[{i}].name: '{spec.name}' needs semantic labels, and data.source "
            f"'{config.data.source}' has none; use a labelled source (synthetic, cityscapes, folder with labels/)"
            for i, spec in enumerate(config.codecs)
            if self.codecs[spec.display_name].needs_labels and not self.source.has_labels
        ]
        if unlabelled:
            raise ConfigError(unlabelled)
        self.shape = (config.data.height, config.data.width)
        mean = np.asarray(self.source.mean_color, dtype=np.float64)
        self.fallback = np.broadcast_to(
            np.round(mean).clip(0, 255).astype(np.uint8), (*self.shape, 3)
        ).copy()
        self.fec = FECConfig(
            code=config.link.fec.code, n=config.link.fec.n, iterations=config.link.fec.iterations
        )
        self._log = log
        self._scorer: Scorer | None = None
        self.encodes = EncodeCache()

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

    def _build_codecs(self) -> dict[str, CodecBase] | ConfigError:
        specs = self.config.codecs
        return _build_all(
            [
                (s.display_name, f"codecs[{i}].params", s.name, s.params)
                for i, s in enumerate(specs)
            ],
            make_codec,
            CodecConfigError,
        )

    def _build_channels(self) -> dict[str, torch.nn.Module] | ConfigError:
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
            return load_segmenter(self.device)
        except FileNotFoundError as exc:
            log(f"miou: not computed: {exc}")
            return None

    def mcs_for(self, point: SweepPoint, layer: Layer = "single") -> MCS:
        """The fixed MCS (``link.base_mcs`` for ``base``, else ``link.mcs``), or the one link
        adaptation picks at this SNR for this channel's family (:func:`adapt_mcs`), bounding the loss
        of every data symbol of the point's K channel uses."""
        mcs = self.config.link.base_mcs if layer == "base" else self.config.link.mcs
        if mcs == "auto":
            family = channel_family(point.channel.model, point.channel.params)
            channel = self.channels[point.channel.display_name]
            uses = num_channel_symbols(point.bandwidth_ratio, *self.shape)
            data = channel_data_symbols(channel, uses)
            return adapt_mcs(point.snr_db, self.fec, family, data, layer)
        return MCS(mcs.modulation, mcs.code_rate, mcs.repetitions)

    def run_point(self, point: SweepPoint) -> PointResult:
        """Simulate and score one point."""
        codec = self.codecs[point.codec.display_name]
        num_symbols = num_channel_symbols(point.bandwidth_ratio, *self.shape)
        seed = derive_seed(
            self.config.seed, point.channel.display_name, point.bandwidth_ratio, point.snr_db
        )
        sionna.phy.config.seed = seed  # also seeds torch's global generator
        if codec.kind == "reference":
            mcs_name, budget = "", math.nan
            deliveries = [deliver_reference(s.image, codec) for s in self.samples]
        elif codec.kind == "analog":
            mcs_name, budget = "", math.nan
            channel = self.channels[point.channel.display_name]
            images = [s.image for s in self.samples]
            deliveries = deliver_analog(
                images, codec, channel, num_symbols, point.snr_db, self.device, self.fallback
            )
        elif isinstance(codec, LayeredCodec):
            channel = self.channels[point.channel.display_name]
            links = tuple(
                DigitalLink(self.mcs_for(point, layer), self.fec, channel)
                for layer in ("base", "enhancement")
            )
            budget = links[0].payload_bytes(num_symbols)
            mcs_name = "+".join(link.mcs.name for link in links)
            deliveries = deliver_layered(
                self.samples,
                point.codec.display_name,
                codec,
                links,
                num_symbols,
                point.snr_db,
                self.fallback,
                self.encodes,
            )
        else:
            mcs = self.mcs_for(point)
            link = DigitalLink(mcs, self.fec, self.channels[point.channel.display_name])
            budget = link.payload_bytes(num_symbols)
            mcs_name = mcs.name
            streams = [
                self.encodes.encode(point.codec.display_name, codec, i, s.image, s.labels, budget)
                for i, s in enumerate(self.samples)
            ]
            deliveries = deliver_digital(
                streams,
                point.codec.name,
                point.codec.params,
                codec,
                link,
                point.snr_db,
                self.shape,
                self.fallback,
                self.config.link.on_error,
            )
        scores = self.scorer.score_point([d.image for d in deliveries])
        return self._rows(point, codec.kind, num_symbols, mcs_name, budget, deliveries, scores)

    def _rows(
        self,
        point: SweepPoint,
        kind: str,
        num_symbols: int,
        mcs_name: str,
        budget: float,
        deliveries: list[Delivery],
        scores: Any,
    ) -> PointResult:
        pixels = self.shape[0] * self.shape[1]
        no_bits = kind != "digital"  # reference and analog rows have no bit or codeword errors
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
        sent = [d for d in deliveries if d.num_bytes is not None]
        n = len(deliveries)
        summary = {
            **ident,
            "num_symbols": num_symbols,
            "mcs": mcs_name,
            "payload_bytes": budget,
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
