"""The OFDM resource grid of one slot: sizes, pilots and the channel-use budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from sionna.phy.ofdm import ResourceGrid

from channels.errors import ChannelConfigError

__all__ = ["PILOT_PATTERNS", "OFDMGrid"]

#: Sionna pilot patterns: ``kronecker`` puts pilots on every subcarrier of the pilot OFDM symbols
#: (one transmitter, one stream), ``empty`` has none (perfect CSI only).
PILOT_PATTERNS = ("kronecker", "empty")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ChannelConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class OFDMGrid:
    """One slot of a single-transmitter, single-stream OFDM resource grid without guard carriers.

    A slot is ``num_ofdm_symbols`` OFDM symbols of ``fft_size`` subcarriers; each OFDM symbol costs
    ``fft_size + cyclic_prefix_length`` complex channel uses (time-domain samples). Pilots occupy
    every subcarrier of the ``pilot_ofdm_symbol_indices`` (``kronecker``), the other resource
    elements carry data.

    :param fft_size: subcarriers per OFDM symbol.
    :param subcarrier_spacing: subcarrier spacing [Hz].
    :param cyclic_prefix_length: cyclic prefix [samples]; costs channel uses, and the frequency-domain
        channel assumes it covers the channel's delay spread (no inter-symbol interference).
    :param num_ofdm_symbols: OFDM symbols per slot.
    :param pilot_pattern: ``"kronecker"`` or ``"empty"``.
    :param pilot_ofdm_symbol_indices: OFDM symbols carrying pilots (``kronecker`` only).
    """

    fft_size: int = 72
    subcarrier_spacing: float = 30e3
    cyclic_prefix_length: int = 6
    num_ofdm_symbols: int = 14
    pilot_pattern: str = "kronecker"
    pilot_ofdm_symbol_indices: tuple[int, ...] = (2, 11)

    def __post_init__(self) -> None:
        _positive_int("fft_size", self.fft_size)
        _positive_int("num_ofdm_symbols", self.num_ofdm_symbols)
        cp = self.cyclic_prefix_length
        if isinstance(cp, bool) or not isinstance(cp, int) or not 0 <= cp <= self.fft_size:
            raise ChannelConfigError(
                f"cyclic_prefix_length must be an integer in [0, fft_size={self.fft_size}], got {cp!r}"
            )
        if not isinstance(self.subcarrier_spacing, int | float) or self.subcarrier_spacing <= 0:
            raise ChannelConfigError(
                f"subcarrier_spacing must be a positive number in Hz, got {self.subcarrier_spacing!r}"
            )
        if self.pilot_pattern not in PILOT_PATTERNS:
            raise ChannelConfigError(
                f"unknown pilot_pattern {self.pilot_pattern!r}; choose from {', '.join(PILOT_PATTERNS)}"
            )
        indices = self.pilot_ofdm_symbol_indices
        if self.pilot_pattern == "kronecker":
            if not indices or any(
                isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.num_ofdm_symbols
                for i in indices
            ):
                raise ChannelConfigError(
                    "pilot_ofdm_symbol_indices must be a non-empty list of OFDM symbol indices in "
                    f"[0, {self.num_ofdm_symbols - 1}], got {list(indices)!r}"
                )
            if len(set(indices)) == self.num_ofdm_symbols:
                raise ChannelConfigError(
                    "pilots on every OFDM symbol leave no data resource element"
                )

    @classmethod
    def of(
        cls,
        fft_size: int,
        subcarrier_spacing: float,
        cyclic_prefix_length: int,
        num_ofdm_symbols: int,
        pilot_pattern: str,
        pilot_ofdm_symbol_indices: Sequence[int],
    ) -> OFDMGrid:
        """The grid from configuration values (lists accepted for the pilot indices)."""
        if isinstance(pilot_ofdm_symbol_indices, str) or not isinstance(
            pilot_ofdm_symbol_indices, Sequence
        ):
            raise ChannelConfigError(
                f"pilot_ofdm_symbol_indices must be a list of integers, got {pilot_ofdm_symbol_indices!r}"
            )
        indices = tuple(sorted(set(pilot_ofdm_symbol_indices)))
        return cls(
            fft_size,
            subcarrier_spacing,
            cyclic_prefix_length,
            num_ofdm_symbols,
            pilot_pattern,
            indices if pilot_pattern == "kronecker" else (),
        )

    def resource_grid(self, device: str | None = None) -> ResourceGrid:
        """Sionna's :class:`~sionna.phy.ofdm.ResourceGrid` of this slot (1 transmitter, 1 stream)."""
        kronecker = self.pilot_pattern == "kronecker"
        return ResourceGrid(
            num_ofdm_symbols=self.num_ofdm_symbols,
            fft_size=self.fft_size,
            subcarrier_spacing=float(self.subcarrier_spacing),
            cyclic_prefix_length=self.cyclic_prefix_length,
            pilot_pattern=self.pilot_pattern,
            pilot_ofdm_symbol_indices=list(self.pilot_ofdm_symbol_indices) if kronecker else None,
            device=device,
        )

    @property
    def pilots_per_slot(self) -> int:
        """Resource elements per slot that carry pilots."""
        return len(self.pilot_ofdm_symbol_indices) * self.fft_size

    @property
    def data_per_slot(self) -> int:
        """Resource elements per slot that carry data symbols."""
        return self.num_ofdm_symbols * self.fft_size - self.pilots_per_slot

    @property
    def channel_uses_per_slot(self) -> int:
        """Complex channel uses (samples) of one slot: ``num_ofdm_symbols * (fft_size + CP)``."""
        return self.num_ofdm_symbols * (self.fft_size + self.cyclic_prefix_length)

    def data_symbols(self, channel_uses: int) -> int:
        """Data symbols that ``channel_uses`` complex channel uses carry: whole slots only.

        ``floor(channel_uses / channel_uses_per_slot) * data_per_slot``; pilots, cyclic prefixes and
        the unused remainder of a partial slot are the overhead.
        """
        return (channel_uses // self.channel_uses_per_slot) * self.data_per_slot

    def data_indices(self) -> torch.Tensor:
        """[data_per_slot] `torch.int64`: flat indices (OFDM symbol major, then subcarrier) of the data
        resource elements, in the order Sionna's :class:`~sionna.phy.ofdm.ResourceGridMapper` fills them."""
        type_grid = self.resource_grid().build_type_grid()[0, 0].flatten()
        return torch.nonzero(type_grid == 0).squeeze(-1).cpu()
