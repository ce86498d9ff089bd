"""OFDM over a 3GPP TDL/CDL multipath channel, with perfect or estimated CSI: ``model: ofdm``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from sionna.phy.channel import OFDMChannel
from sionna.phy.ofdm import ResourceGridMapper

from channels.ofdm.csi import CSIEstimator
from channels.ofdm.grid import OFDMGrid
from channels.ofdm.multipath import Multipath
from channels.registry import register_channel

__all__ = ["OFDMMultipathChannel", "OFDMObservation"]


@dataclass
class OFDMObservation:
    """What one call of :meth:`OFDMMultipathChannel.observe` gives, on the data resource elements.

    Every field is [batch, symbols], in the order of the transmitted data symbols.

    :param y: `torch.complex64`, received symbols ``h * x + n``.
    :param h: `torch.complex64`, true channel frequency response.
    :param h_hat: `torch.complex64`, the receiver's estimate of ``h`` (``h`` for perfect CSI).
    :param err_var: `torch.float32`, the estimator's error variance (0 for perfect CSI).
    """

    y: torch.Tensor
    h: torch.Tensor
    h_hat: torch.Tensor
    err_var: torch.Tensor


def _data_gather(grid: torch.Tensor, index: torch.Tensor, batch: int) -> torch.Tensor:
    """[batch * slots, sym, fft] -> [batch, slots * data_per_slot] at the data resource elements."""
    return grid.flatten(1)[:, index].reshape(batch, -1)


@register_channel("ofdm")
class OFDMMultipathChannel(torch.nn.Module):
    r"""Data symbols carried on OFDM slots over a TR 38.901 TDL/CDL channel, frequency domain.

    Each row of ``x`` fills ``ceil(symbols / data_per_slot)`` slots, resource element by resource
    element (OFDM symbol major, then subcarrier, skipping pilots; the tail of the last slot is zero)
    with Sionna's :class:`~sionna.phy.ofdm.ResourceGridMapper`. Sionna's
    :class:`~sionna.phy.channel.OFDMChannel` (``normalize_channel=False``) applies the multipath
    channel per subcarrier and OFDM symbol, time variation (Doppler) included, and adds CN(0, ``no``)
    noise per resource element. Modelling in frequency domain assumes the cyclic prefix covers the
    delay spread (no inter-symbol or inter-carrier interference). Every slot is an independent channel
    realisation. The receiver's CSI is perfect, LS or LMMSE (:class:`~channels.ofdm.csi.CSIEstimator`).
    Pilots and cyclic prefix cost channel uses: see :meth:`data_symbols`.

    :param fft_size: subcarriers.
    :param subcarrier_spacing: [Hz].
    :param cyclic_prefix_length: [samples] per OFDM symbol.
    :param num_ofdm_symbols: OFDM symbols per slot.
    :param pilot_pattern: ``"kronecker"`` (pilots on all subcarriers of some OFDM symbols) or
        ``"empty"`` (no pilots, perfect CSI only).
    :param pilot_ofdm_symbol_indices: OFDM symbols that carry the pilots.
    :param multipath: ``"tdl"`` or ``"cdl"`` (single antennas).
    :param multipath_model: ``"A"``..``"E"``.
    :param delay_spread: RMS delay spread [s].
    :param carrier_frequency: [Hz].
    :param ue_speed: [m/s], sets the Doppler spread.
    :param csi: ``"perfect"``, ``"ls"`` or ``"lmmse"``.
    :param ls_interpolation: ``"nn"``, ``"lin"`` or ``"lin_time_avg"`` (``csi: ls``).

    :input x: [batch, symbols], `torch.complex64`. Data symbols, unit average energy.
    :input no: `float`, or a tensor of 1 or ``batch`` elements: N0 per resource element.
    :output y: [batch, symbols], `torch.complex64`. Received data symbols.
    :output h: [batch, symbols], `torch.complex64`. The receiver's channel estimate ``h_hat``.
    :output err_var: [batch, symbols], `torch.float32`. Its error variance; the receiver adds it to
        the noise (``(no + err_var) / |h|^2`` after zero forcing).

    .. code-block:: python

        channel = OFDMMultipathChannel(multipath="tdl", multipath_model="A", csi="ls")
        y, h_hat, err_var = channel(x, no=0.1)
        k = channel.data_symbols(8192)  # data symbols that 8192 channel uses carry
    """

    def __init__(
        self,
        fft_size: int = 72,
        subcarrier_spacing: float = 30e3,
        cyclic_prefix_length: int = 6,
        num_ofdm_symbols: int = 14,
        pilot_pattern: str = "kronecker",
        pilot_ofdm_symbol_indices: Sequence[int] = (2, 11),
        multipath: str = "tdl",
        multipath_model: str = "A",
        delay_spread: float = 300e-9,
        carrier_frequency: float = 3.5e9,
        ue_speed: float = 0.0,
        csi: str = "perfect",
        ls_interpolation: str = "lin",
    ) -> None:
        super().__init__()
        self.grid = OFDMGrid.of(
            fft_size,
            subcarrier_spacing,
            cyclic_prefix_length,
            num_ofdm_symbols,
            pilot_pattern,
            pilot_ofdm_symbol_indices,
        )
        self.multipath = Multipath(
            multipath, multipath_model, delay_spread, carrier_frequency, ue_speed
        )
        resource_grid = self.grid.resource_grid()
        self.mapper = ResourceGridMapper(resource_grid)
        self.ofdm_channel = OFDMChannel(
            self.multipath.channel_model(), resource_grid, return_channel=True
        )
        self.estimator = CSIEstimator(
            csi, self.grid, resource_grid, self.multipath, ls_interpolation
        )
        self.register_buffer("data_index", self.grid.data_indices(), persistent=False)

    @property
    def bler_family(self) -> str:
        """The BLER tables ``mcs: auto`` reads: Rayleigh blocks of one slot's data symbols (see
        :func:`channels.channel_family`)."""
        return f"rayleigh_bl{self.grid.data_per_slot}"

    def data_symbols(self, channel_uses: int) -> int:
        """Data symbols that ``channel_uses`` complex channel uses carry (whole slots; pilots and
        cyclic prefixes are overhead); see :meth:`channels.ofdm.grid.OFDMGrid.data_symbols`."""
        return self.grid.data_symbols(channel_uses)

    def _noise_per_slot(self, no: float | torch.Tensor, batch: int, slots: int) -> torch.Tensor:
        no = torch.as_tensor(no, dtype=torch.float32, device=self.mapper.device).flatten()
        if no.numel() not in (1, batch):
            raise ValueError(f"no must hold 1 or batch={batch} values, got {no.numel()}")
        return torch.broadcast_to(no, (batch,)).repeat_interleave(slots)

    def observe(self, x: torch.Tensor, no: float | torch.Tensor) -> OFDMObservation:
        """Send ``x`` [batch, symbols] and return the received symbols, true and estimated channel."""
        batch, num_symbols = x.shape
        per_slot = self.grid.data_per_slot
        slots = max(1, math.ceil(num_symbols / per_slot))
        data = torch.zeros(
            batch, slots * per_slot, dtype=torch.complex64, device=self.mapper.device
        )
        data[:, :num_symbols] = x
        grids = self.mapper(data.reshape(batch * slots, 1, 1, per_slot))
        no_slot = self._noise_per_slot(no, batch, slots)
        y, h = self.ofdm_channel(grids, no_slot[:, None, None, None, None])
        h_hat, err_var = self.estimator(y, h, no_slot)
        out = [
            _data_gather(t, self.data_index, batch)[:, :num_symbols].to(x.device)
            for t in (y[:, 0, 0], h[:, 0, 0, 0, 0], h_hat, err_var)
        ]
        return OFDMObservation(*out)

    def forward(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(y, h_hat, err_var)`` on the data symbols; see the class docstring."""
        seen = self.observe(x, no)
        return seen.y, seen.h_hat, seen.err_var
