"""3GPP TR 38.901 multipath models (TDL, CDL) for a single-antenna link, on Sionna."""

from __future__ import annotations

from dataclasses import dataclass

from sionna.phy.channel import ChannelModel
from sionna.phy.channel.tr38901 import CDL, TDL, Antenna

from channels.errors import ChannelConfigError

__all__ = ["MULTIPATH_KINDS", "MULTIPATH_MODELS", "Multipath"]

MULTIPATH_KINDS = ("tdl", "cdl")
MULTIPATH_MODELS = ("A", "B", "C", "D", "E")


def _nonnegative(name: str, value: object, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ChannelConfigError(f"{name} must be a number >= 0 in {unit}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Multipath:
    """A TR 38.901 tapped-delay-line (``tdl``) or clustered-delay-line (``cdl``) model, SISO.

    :param kind: ``"tdl"`` or ``"cdl"``.
    :param model: ``"A"``..``"E"`` (A-C non-line-of-sight, D-E line-of-sight).
    :param delay_spread: RMS delay spread [s] that scales the model's normalised delays; 0 puts every
        tap at delay 0 (flat fading).
    :param carrier_frequency: carrier frequency [Hz].
    :param ue_speed: UE speed [m/s]; sets the Doppler spread ``ue_speed * carrier_frequency / c``.

    CDL uses one vertically polarised omnidirectional antenna at each end (downlink), so that its
    clusters' angles shape only the Doppler spectrum.
    """

    kind: str = "tdl"
    model: str = "A"
    delay_spread: float = 300e-9
    carrier_frequency: float = 3.5e9
    ue_speed: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in MULTIPATH_KINDS:
            raise ChannelConfigError(
                f"unknown multipath {self.kind!r}; choose from {', '.join(MULTIPATH_KINDS)}"
            )
        if self.model not in MULTIPATH_MODELS:
            raise ChannelConfigError(
                f"unknown {self.kind} model {self.model!r}; choose from {', '.join(MULTIPATH_MODELS)}"
            )
        _nonnegative("delay_spread", self.delay_spread, "s")
        _nonnegative("ue_speed", self.ue_speed, "m/s")
        if _nonnegative("carrier_frequency", self.carrier_frequency, "Hz") == 0:
            raise ChannelConfigError("carrier_frequency must be > 0 Hz")

    def channel_model(self, device: str | None = None) -> ChannelModel:
        """Sionna's channel-impulse-response generator for this model (unit average power)."""
        speed = float(self.ue_speed)
        args = (self.model, float(self.delay_spread), float(self.carrier_frequency))
        motion = {"min_speed": speed, "max_speed": speed, "device": device}
        if self.kind == "tdl":
            return TDL(*args, **motion)
        antenna = Antenna("single", "V", "omni", float(self.carrier_frequency), device=device)
        return CDL(*args, ut_array=antenna, bs_array=antenna, direction="downlink", **motion)
