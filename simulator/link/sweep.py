"""The sweep: every (codec, channel, bandwidth ratio, SNR) point of a configuration, in a fixed order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from simulator.config import ChannelSpec, CodecSpec, Config

__all__ = ["SweepPoint", "derive_seed", "num_channel_symbols", "sweep_points"]


@dataclass(frozen=True)
class SweepPoint:
    """One point of the sweep; ``index`` is its position in the canonical order."""

    index: int
    codec: CodecSpec
    channel: ChannelSpec
    bandwidth_ratio: float
    snr_db: float

    @property
    def key(self) -> str:
        """A stable identifier, the same in every run of the same configuration."""
        text = f"{self.codec.display_name}|{self.channel.display_name}|{self.bandwidth_ratio!r}|{self.snr_db!r}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def derive_seed(base_seed: int, *parts: object) -> int:
    """A 31-bit seed from the run seed and the parts that identify a random experiment.

    The codec is deliberately left out of the channel seed: every codec at the same (channel, ratio, SNR)
    point sees the same noise and fading realisations (common random numbers), so differences between
    codecs are not channel luck.
    """
    text = "|".join([str(base_seed), *map(repr, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def num_channel_symbols(bandwidth_ratio: float, height: int, width: int) -> int:
    """K = floor(rho * 3 * H * W): complex channel uses per image (DeepJSCC convention)."""
    # A tiny epsilon keeps exact fractions such as 1/48 * 3*256*512 = 8192 from flooring to 8191.
    return int(bandwidth_ratio * 3 * height * width + 1e-9)


def sweep_points(config: Config) -> list[SweepPoint]:
    """All points, ordered codec -> channel -> bandwidth ratio -> SNR."""
    points = []
    for codec in config.codecs:
        for channel in config.channel:
            for ratio in config.link.bandwidth_ratio:
                for snr in config.link.snr_db:
                    points.append(SweepPoint(len(points), codec, channel, ratio, snr))
    return points
