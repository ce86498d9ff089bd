"""The experiment configuration: YAML validated into typed, frozen objects.

Every problem is reported as one readable line that names the key path, e.g.
``channel.model: unknown model 'rayleight'; choose from awgn, ofdm, rayleigh, rician, or "package.module:ClassName"``.
Unknown keys are errors. Ratios may be written as fractions (``1/48``).
"""

from __future__ import annotations

import math
import os
import re
import sys
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_type_hints

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import Required, TypedDict, is_typeddict

from channels.phy import LDPC_RATE_RANGE, MCS, FECConfig, Modulation
from source_codecs.plugins import did_you_mean

__all__ = [
    "METRIC_NAMES",
    "ChannelSpec",
    "CodecSpec",
    "Config",
    "ConfigError",
    "DataConfig",
    "ExecutionConfig",
    "LinkConfig",
    "OutputConfig",
    "SNRRange",
    "SegmenterSpec",
    "dump_config",
    "load_config",
    "parse_config",
    "working_folder_importable",
]

METRIC_NAMES = ("psnr", "ms_ssim", "lpips", "lpips_alex", "miou", "fid", "kid")


class ConfigError(ValueError):
    """A configuration that cannot run. ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _parse_ratio(value: Any) -> Any:
    """Accept ``1/48``, ``"1/48"``, ``0.02``; leave anything else for pydantic to reject."""
    if isinstance(value, str):
        try:
            return float(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError):
            return value
    return value


Ratio = Annotated[float, BeforeValidator(_parse_ratio), Field(gt=0, le=1)]


def _display_name(name: str, params: dict[str, Any], label: str | None) -> str:
    """``label`` if given, else ``name(k=v,...)`` with the parameters sorted by key."""
    if label:
        return label
    if not params:
        return name
    return f"{name}({','.join(f'{k}={v}' for k, v in sorted(params.items()))})"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Strict):
    """Where the images come from (see ``simulator.data``)."""

    source: Literal["synthetic", "cityscapes", "folder", "samples"] = "synthetic"
    root: str | None = None
    num_images: int = Field(8, ge=1, le=100_000)
    height: int = Field(256, ge=16, le=8192)
    width: int = Field(512, ge=16, le=8192)
    split: Literal["train", "val", "test"] = "test"

    @model_validator(mode="after")
    def _root_needed(self) -> DataConfig:
        if self.source in ("cityscapes", "folder") and not self.root:
            raise ValueError(f"data.root: required for source '{self.source}'")
        return self


class CodecSpec(_Strict):
    """One codec row: a registered name and its parameters."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None

    @property
    def display_name(self) -> str:
        """The name used in result rows and plot legends."""
        return _display_name(self.name, self.params, self.label)


@with_config(ConfigDict(extra="forbid"))
class _MCSKeys(TypedDict, total=False):
    """The keys of a fixed ``link.mcs`` / ``link.base_mcs``: a modulation and code rate (code_rate 1.0
    with ``fec.code: none``); ``repetitions`` sends every codeword that many times (LLRs combined), for
    rates below 5G LDPC's 1/5."""

    modulation: Required[Modulation]
    code_rate: Annotated[float, Field(gt=0, le=1)]  # default 0.5
    repetitions: Annotated[int, Field(ge=1, le=32)]  # default 1


@with_config(ConfigDict(extra="forbid"))
class _FECKeys(TypedDict, total=False):
    """The keys of ``link.fec`` (the other :class:`~channels.phy.FECConfig` fields keep their
    defaults): 5G LDPC with codeword length ``n`` or none (uncoded blocks of ``n`` bits); ``decoder``
    picks the LDPC decoder (``auto``: the fast CPU decoder on the CPU, Sionna's on CUDA)."""

    code: Literal["ldpc5g", "none"]
    n: Annotated[int, Field(ge=64, le=8448)]
    iterations: Annotated[int, Field(ge=1, le=200)]
    decoder: Literal["auto", "sionna", "fast"]


def _mcs(keys: _MCSKeys) -> MCS:
    """The MCS that validated ``keys`` name (``code_rate`` 0.5 unless given)."""
    return MCS(**{"code_rate": 0.5, **keys})


def _fec(keys: _FECKeys) -> FECConfig:
    """The channel code that validated ``keys`` name (the other fields at their defaults)."""
    return FECConfig(**keys)


def _mcs_keys(mcs: Literal["auto", "envelope"] | MCS) -> str | dict[str, Any]:
    """``mcs`` as the configuration writes it: ``auto`` (or ``envelope``), or every key of
    :class:`_MCSKeys`."""
    return mcs if isinstance(mcs, str) else {k: getattr(mcs, k) for k in get_type_hints(_MCSKeys)}


def _fec_keys(fec: FECConfig) -> dict[str, Any]:
    """``fec`` as the configuration writes it: every key of :class:`_FECKeys`."""
    return {k: getattr(fec, k) for k in get_type_hints(_FECKeys)}


_MCSField = Annotated[
    Literal["auto"] | Annotated[_MCSKeys, AfterValidator(_mcs)], PlainSerializer(_mcs_keys)
]
"""``link.mcs`` and ``link.base_mcs``: ``auto`` or a fixed :class:`~channels.phy.MCS` written as
``{modulation, code_rate (0.5), repetitions (1)}``."""

_EnvelopeMCSField = Annotated[
    Literal["auto", "envelope"] | Annotated[_MCSKeys, AfterValidator(_mcs)],
    PlainSerializer(_mcs_keys),
]
"""``link.mcs``: as :data:`_MCSField`, or ``envelope`` (every MCS of the set tried at each point,
the best by ``link.envelope_metric`` reported)."""

_FECField = Annotated[_FECKeys, AfterValidator(_fec), PlainSerializer(_fec_keys)]
"""``link.fec``: a :class:`~channels.phy.FECConfig` written as ``{code, n, iterations, decoder}``."""


class SNRRange(_Strict):
    """``{start, stop, step}`` in dB, stop inclusive."""

    start: float
    stop: float
    step: float = Field(gt=0)

    def values(self) -> list[float]:
        count = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [round(self.start + i * self.step, 10) for i in range(max(count, 0))]


class LinkConfig(_Strict):
    """Bandwidth ratio(s), SNR points, MCS policy and FEC."""

    bandwidth_ratio: list[Ratio] = Field(default_factory=lambda: [1 / 48, 1 / 24], min_length=1)
    snr_db: list[float] = Field(default_factory=lambda: [0, 2, 4, 6, 8, 10, 15, 20], min_length=1)
    mcs: _EnvelopeMCSField = "auto"
    base_mcs: _MCSField = "auto"
    envelope_metric: Literal[METRIC_NAMES] | None = None  # type: ignore[valid-type]
    fec: _FECField = Field(default_factory=FECConfig)
    on_error: Literal["fallback", "decode"] = "fallback"

    @field_validator("bandwidth_ratio", mode="before")
    @classmethod
    def _scalar_ratio(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("snr_db", mode="before")
    @classmethod
    def _snr_range(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return SNRRange(**value).values()
        return value if isinstance(value, list) else [value]

    @model_validator(mode="after")
    def _code_rate(self) -> LinkConfig:
        for key in ("mcs", "base_mcs"):
            mcs = getattr(self, key)
            if not isinstance(mcs, MCS):
                continue
            if self.fec.code == "none" and mcs.code_rate != 1.0:
                raise ValueError(f"link.{key}.code_rate must be 1.0 when link.fec.code is 'none'")
            low, high = LDPC_RATE_RANGE
            if self.fec.code == "ldpc5g" and not low <= mcs.code_rate <= high:
                raise ValueError(
                    f"link.{key}.code_rate: {mcs.code_rate} cannot be coded by 5G LDPC; "
                    f"choose a rate in {low}..{high} (or fec.code: none with code_rate 1.0)"
                )
        return self


class ChannelSpec(_Strict):
    """A channel model by registered name or ``"package.module:ClassName"``, with its parameters."""

    model: str = "awgn"
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None

    @property
    def display_name(self) -> str:
        """The name used in result rows and plot legends."""
        return _display_name(self.model, self.params, self.label)


class SegmenterSpec(_Strict):
    """The network behind ``miou``: the shipped one (``torchscript: null``) or your own TorchScript
    segmenter whose output channels ``class_map`` maps onto the 19 Cityscapes trainIds (a list with one
    entry per output channel: a trainId, a class name, or null to drop it)."""

    torchscript: str | None = None
    class_map: list[int | str | None] | None = None

    @model_validator(mode="after")
    def _map_needed(self) -> SegmenterSpec:
        if self.torchscript and not self.class_map:
            raise ValueError("segmenter.class_map: required with segmenter.torchscript")
        return self


class ExecutionConfig(_Strict):
    """Where points run: ``local`` (this process), ``processes`` (worker processes on this machine) or
    ``dask`` (a ``LocalCluster`` when ``address`` is null, else the scheduler at ``address``)."""

    executor: Literal["local", "processes", "dask"] = "local"
    workers: int = Field(2, ge=1, le=4096)
    address: str | None = None


class OutputConfig(_Strict):
    """Where results go and what is drawn: ``formats`` of the figures in ``plots/`` (PNG by default,
    PDF and SVG on request); ``per_metric_plots``: also one file per metric and bandwidth ratio (and
    per SNR against the ratio), besides the multi-panel figures; ``gallery_images``: how many of the
    first images the report's gallery shows per point (0: no gallery)."""

    dir: str = "results/link"
    plots: bool = True
    per_metric_plots: bool = True
    formats: list[Literal["png", "pdf", "svg"]] = Field(
        default_factory=lambda: ["png"], min_length=1
    )
    gallery_images: int = Field(2, ge=0, le=64)

    @field_validator("formats", mode="before")
    @classmethod
    def _one_format(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("formats")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a format is listed twice: {value}")
        return value


class Config(_Strict):
    """The whole experiment (see the README for every key)."""

    seed: int = Field(0, ge=0, le=2**31 - 1)
    device: str = "auto"
    data: DataConfig = Field(default_factory=DataConfig)
    codecs: list[CodecSpec] = Field(
        default_factory=lambda: [CodecSpec(name="jpeg2000"), CodecSpec(name="original")],
        min_length=1,
    )
    link: LinkConfig = Field(default_factory=LinkConfig)
    channel: list[ChannelSpec] = Field(default_factory=lambda: [ChannelSpec()], min_length=1)
    metrics: list[Literal[METRIC_NAMES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["psnr", "ms_ssim", "lpips", "miou", "fid", "kid"]
    )
    segmenter: SegmenterSpec = Field(default_factory=SegmenterSpec)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @field_validator("channel", mode="before")
    @classmethod
    def _one_channel(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        ok = value in ("auto", "cpu", "cuda") or (value.startswith("cuda:") and value[5:].isdigit())
        if not ok:
            raise ValueError(f"unknown device '{value}'; choose from auto, cpu, cuda, cuda:N")
        return value

    @property
    def envelope_metric(self) -> str | None:
        """The metric that picks the winning MCS of ``link.mcs: envelope``: ``link.envelope_metric``,
        else the first of ``metrics``; None when ``link.mcs`` is not ``envelope``."""
        if self.link.mcs != "envelope":
            return None
        return self.link.envelope_metric or (self.metrics[0] if self.metrics else None)


def _envelope_problems(config: Config) -> list[str]:
    """``link.envelope_metric`` must be one of ``metrics`` and is only read by ``mcs: envelope``,
    which needs a metric to rank by."""
    chosen, metrics = config.link.envelope_metric, list(config.metrics)
    if chosen is not None and config.link.mcs != "envelope":
        return ["link.envelope_metric: only used with link.mcs: envelope"]
    if chosen is not None and chosen not in metrics:
        listed = ", ".join(metrics) or "none"
        return [
            f"link.envelope_metric: '{chosen}' is not computed (metrics: {listed}); add it to "
            f"metrics or choose one of them{did_you_mean(chosen, metrics)}"
        ]
    if config.link.mcs == "envelope" and not metrics:
        return ["link.mcs: envelope ranks the MCS by a metric; list at least one under metrics"]
    return []


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue  # pydantic's internal union/validator tags
        else:
            path += ("." if path else "") + str(part)
    return path


def _section_keys(annotation: Any) -> dict[str, Any] | None:
    """The keys, with their types, of the configuration section inside a field's type (a pydantic
    model, e.g. in ``list[CodecSpec]``, or the keys of a mapping, e.g. ``link.fec``'s); None if none."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: field.annotation for name, field in annotation.model_fields.items()}
    if is_typeddict(annotation):
        return get_type_hints(annotation)
    for arg in get_args(annotation):
        found = _section_keys(arg)
        if found is not None:
            return found
    return None


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The valid keys of the section that holds the key at ``loc`` (an unknown key's location)."""
    keys = _section_keys(Config)
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        keys = _section_keys(keys.get(part)) if keys is not None else None
        if keys is None:
            return []
    return list(keys) if keys is not None else []


def _format_error(err: dict[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    path = _key_path(loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key{did_you_mean(str(loc[-1]), _keys_at(loc))}"
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        given = err.get("input")
        hint = (
            did_you_mean(given, re.findall(r"'([^']*)'", allowed)) if isinstance(given, str) else ""
        )
        return f"{path}: invalid value {given!r}; choose from {allowed}{hint}"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith(f"{path}.") or msg.startswith(f"{path}:"):
        return msg  # a cross-field check that names its own, deeper key
    return f"{path}: {msg}"


def _is_other_union_branch(err: dict[str, Any]) -> bool:
    """For ``mcs: auto | {modulation, code_rate}``: report only the branch the user meant (the keys'
    for a mapping, else ``auto``'s)."""
    branches = ("literal[", "function-after[")  # pydantic's tags of the union's two members
    tags = [p for p in err["loc"] if isinstance(p, str) and p.startswith(branches)]
    if not tags:
        return False
    if tags[0].startswith("literal["):
        return isinstance(err.get("input"), dict)
    return err["type"] == "dict_type"


def working_folder_importable() -> None:
    """Put the working folder on the import path (at its end) if it is not there, so that plug-ins
    (``"package.module:ClassName"``) import from it under the installed ``semcom-sim`` command as they
    do under ``python -m simulator.run`` (which puts it first)."""
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.append(cwd)


def _entries(raw: dict[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    """(key path, mapping) of each well-formed entry of the ``codecs`` or ``channel`` section of the raw
    document; malformed ones are the schema's to report."""
    value = raw.get(section)
    if section == "channel":
        value = [{}] if value is None else value
        if isinstance(value, dict):
            return [("channel", value)]
    if not isinstance(value, list):
        return []
    return [(f"{section}[{i}]", e) for i, e in enumerate(value) if isinstance(e, dict)]


def _registry_problems(raw: dict[str, Any]) -> list[str]:
    """What only the registries can check, from the raw document (so that it is reported together
    with the schema's problems): codec and channel names, plug-in imports, parameter names and the
    declared parameters' values."""
    from channels import ChannelConfigError, channel_class, check_channel_params
    from source_codecs import CodecConfigError, check_codec_params, codec_class

    checks = [
        ("codecs", "name", codec_class, check_codec_params, CodecConfigError),
        ("channel", "model", channel_class, check_channel_params, ChannelConfigError),
    ]
    problems = []
    for section, name_key, resolve, check_params, error in checks:
        for key, entry in _entries(raw, section):
            name = entry.get(name_key, "awgn" if section == "channel" else None)
            params = entry.get("params")
            if not isinstance(name, str):
                continue  # missing or not a string: a schema problem
            if ":" in name:
                working_folder_importable()
            try:
                resolve(name)
            except error as exc:
                problems.append(f"{key}.{name_key}: {exc}")
                continue
            if params is None or isinstance(params, dict):
                try:
                    check_params(name, params)
                except error as exc:
                    problems.append(f"{key}.params: {exc}")
    return problems


def parse_config(raw: Any) -> Config:
    """Validate a parsed YAML document into a :class:`Config`; raises :class:`ConfigError`.

    Every problem is found in one pass: the schema's (unknown keys, types, ranges), the registries'
    (codec and channel names, plug-in imports, parameters) and the cross-entry checks, each one line
    naming its key path, with the nearest valid name suggested where one is close.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): the configuration must be a mapping of keys to values"])
    problems: list[str] = []
    config = None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _is_other_union_branch(e)]
        problems.extend(_format_error(e) for e in errors)
    problems.extend(_registry_problems(raw))
    if config is not None:
        labels = [c.display_name for c in config.codecs]
        if len(set(labels)) != len(labels):
            problems.append("codecs: two entries have the same name and params; give one a 'label'")
        problems.extend(_envelope_problems(config))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML file; raises :class:`ConfigError` (also for unreadable files)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration ({exc.strerror})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(
            [f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"]
        ) from None
    return parse_config(raw)


def dump_config(config: Config) -> str:
    """The resolved configuration as YAML (what ``config.yaml`` in the output folder holds)."""
    data = config.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False)
