"""The experiment configuration: YAML validated into typed, frozen objects.

Every problem is reported as one readable line that names the key path, e.g.
``channel.model: unknown model 'rayleight'; choose from awgn, ofdm, rayleigh, rician, or "package.module:ClassName"``.
Unknown keys are errors. Ratios may be written as fractions (``1/48``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from channels.phy import LDPC_RATE_RANGE, Modulation

__all__ = [
    "METRIC_NAMES",
    "ChannelSpec",
    "CodecSpec",
    "Config",
    "ConfigError",
    "DataConfig",
    "ExecutionConfig",
    "FECSpec",
    "FixedMCS",
    "LinkConfig",
    "OutputConfig",
    "SNRRange",
    "SegmenterSpec",
    "dump_config",
    "load_config",
    "parse_config",
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


class FixedMCS(_Strict):
    """A fixed modulation and code rate (code_rate 1.0 with ``fec.code: none``); ``repetitions``
    sends every codeword that many times (LLRs combined), for rates below 5G LDPC's 1/5."""

    modulation: Modulation
    code_rate: float = Field(0.5, gt=0, le=1)
    repetitions: int = Field(1, ge=1, le=32)


class FECSpec(_Strict):
    """Channel code: 5G LDPC with codeword length ``n`` or none (uncoded blocks of ``n`` bits);
    ``decoder`` picks the LDPC decoder (``auto``: the fast CPU decoder on the CPU, Sionna's on CUDA)."""

    code: Literal["ldpc5g", "none"] = "ldpc5g"
    n: int = Field(1024, ge=64, le=8448)
    iterations: int = Field(20, ge=1, le=200)
    decoder: Literal["auto", "sionna", "fast"] = "auto"


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
    mcs: Literal["auto"] | FixedMCS = "auto"
    base_mcs: Literal["auto"] | FixedMCS = "auto"
    fec: FECSpec = Field(default_factory=FECSpec)
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
            if not isinstance(mcs, FixedMCS):
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
    dir: str = "results/link"
    plots: bool = True


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


def _format_error(err: dict[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p == "FixedMCS")))
    path = _key_path(loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        return f"{path}: invalid value {err.get('input')!r}; choose from {allowed}"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith(f"{path}.") or msg.startswith(f"{path}:"):
        return msg  # a cross-field check that names its own, deeper key
    return f"{path}: {msg}"


def _is_other_union_branch(err: dict[str, Any]) -> bool:
    """For ``mcs: auto | {modulation, code_rate}``: report only the branch the user meant."""
    tags = [p for p in err["loc"] if isinstance(p, str) and ("literal[" in p or p == "FixedMCS")]
    if not tags:
        return False
    if "literal[" in tags[0]:
        return isinstance(err.get("input"), dict)
    return err["type"] == "model_type"


def _check_names(config: Config) -> list[str]:
    """Names that only the registries can check: codecs and channel models."""
    from channels import available_channels
    from source_codecs import available_codecs

    problems = []
    codecs = available_codecs()
    for i, spec in enumerate(config.codecs):
        if spec.name not in codecs:
            problems.append(
                f"codecs[{i}].name: unknown codec '{spec.name}'; choose from {', '.join(codecs)}"
            )
    models = available_channels()
    for i, spec in enumerate(config.channel):
        if spec.model not in models and ":" not in spec.model:
            where = "channel" if len(config.channel) == 1 else f"channel[{i}]"
            problems.append(
                f"{where}.model: unknown model '{spec.model}'; choose from "
                f'{", ".join(models)}, or "package.module:ClassName"'
            )
    labels = [(c.display_name) for c in config.codecs]
    if len(set(labels)) != len(labels):
        problems.append("codecs: two entries have the same name and params; give one a 'label'")
    return problems


def parse_config(raw: Any) -> Config:
    """Validate a parsed YAML document into a :class:`Config`; raises :class:`ConfigError`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): the configuration must be a mapping of keys to values"])
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _is_other_union_branch(e)]
        lines = list(dict.fromkeys(_format_error(e) for e in errors))
        raise ConfigError(lines) from None
    problems = _check_names(config)
    if problems:
        raise ConfigError(problems)
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
