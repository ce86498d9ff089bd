"""The link pipeline: data -> source codec -> physical layer and channel -> decoder -> metrics, per point."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sionna.phy
import torch

from channels import ChannelConfigError, make_channel
from channels.phy import FECConfig
from simulator.analog import AnalogTransport
from simulator.config import Config, ConfigError
from simulator.data import DataConfigError, Sample, make_source
from simulator.digital import DigitalTransport, ReferenceTransport
from simulator.layered import LayeredTransport
from simulator.scoring import Scorer, metric_batch_size
from simulator.sweep import SweepPoint, derive_seed
from simulator.transport import Delivery, LinkSetup, Plan, Transport
from source_codecs import CodecBase, CodecConfigError, make_codec
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
        link = config.link
        self.fec = FECConfig(
            code=link.fec.code,
            n=link.fec.n,
            iterations=link.fec.iterations,
            decoder=link.fec.decoder,
        )
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

    def run_point(self, point: SweepPoint) -> PointResult:
        """Simulate and score one point."""
        transport = self.transports[point.codec.display_name]
        seed = derive_seed(
            self.config.seed, point.channel.display_name, point.bandwidth_ratio, point.snr_db
        )
        sionna.phy.config.seed = seed  # also seeds torch's global generator
        plan = transport.plan(point)
        deliveries = transport.deliver(self.samples, plan)
        scores = self.scorer.score_point([d.image for d in deliveries])
        return self._rows(plan, transport.carries_bits, deliveries, scores)

    def _rows(
        self, plan: Plan, carries_bits: bool, deliveries: list[Delivery], scores: Any
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
        sent = [d for d in deliveries if d.num_bytes is not None]
        n = len(deliveries)
        summary = {
            **ident,
            "num_symbols": plan.num_symbols,
            "mcs": plan.mcs,
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
