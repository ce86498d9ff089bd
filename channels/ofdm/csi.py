"""Channel state information at the OFDM receiver: perfect, LS or LMMSE estimates from the pilots."""

from __future__ import annotations

import torch
from sionna.phy.ofdm import (
    LMMSEChannelEstimator,
    LSChannelEstimator,
    ResourceGrid,
    tdl_freq_cov_mat,
    tdl_time_cov_mat,
)

from channels.errors import ChannelConfigError
from channels.ofdm.grid import OFDMGrid
from channels.ofdm.multipath import Multipath

__all__ = ["CSI_MODES", "LS_INTERPOLATIONS", "CSIEstimator"]

CSI_MODES = ("perfect", "ls", "lmmse")
#: Interpolators of Sionna's :class:`~sionna.phy.ofdm.LSChannelEstimator`: nearest pilot, linear
#: across subcarriers and OFDM symbols, linear across subcarriers averaged over the pilot symbols.
LS_INTERPOLATIONS = ("nn", "lin", "lin_time_avg")


class CSIEstimator(torch.nn.Module):
    r"""The receiver's channel estimate on every resource element of a slot.

    - ``perfect``: the true frequency response, error variance 0.
    - ``ls``: Sionna's :class:`~sionna.phy.ofdm.LSChannelEstimator`: least squares on each pilot,
      ``y_p / p``, then ``ls_interpolation`` to the data resource elements. Its error variance is the
      LS one, ``no / |p|^2``, interpolated the same way: interpolation error (frequency selectivity,
      Doppler) is not in it.
    - ``lmmse``: Sionna's :class:`~sionna.phy.ofdm.LMMSEChannelEstimator`: LS on the pilots followed by
      LMMSE filtering across subcarriers then OFDM symbols (``order="f-t"``), with the exact
      covariance matrices of the TDL model (:func:`~sionna.phy.ofdm.tdl_freq_cov_mat`, its power
      delay profile and ``delay_spread``; :func:`~sionna.phy.ofdm.tdl_time_cov_mat`, Jakes Doppler at
      ``ue_speed``). Its error variance is the LMMSE one. TDL only: CDL has no closed-form covariance.

    This is channel *estimation*; equalisation stays per resource element (zero forcing with the
    estimate, in :func:`channels.equalization.zf_equalize`).

    :param csi: ``"perfect"``, ``"ls"`` or ``"lmmse"``.
    :param grid: the slot's grid; ``ls`` and ``lmmse`` need its pilots.
    :param resource_grid: Sionna's resource grid of ``grid``.
    :param multipath: the channel model (``lmmse`` takes its covariances from it).
    :param ls_interpolation: one of :data:`LS_INTERPOLATIONS` (``ls`` only).

    :input y: [slots, 1, 1, num_ofdm_symbols, fft_size], `torch.complex64`. Received resource grids.
    :input h: [slots, 1, 1, 1, 1, num_ofdm_symbols, fft_size], `torch.complex64`. True channel.
    :input no: [slots], `torch.float32`. Noise variance N0 per resource element.
    :output h_hat: [slots, num_ofdm_symbols, fft_size], `torch.complex64`. Channel estimate.
    :output err_var: [slots, num_ofdm_symbols, fft_size], `torch.float32`. Estimation error variance.
    """

    def __init__(
        self,
        csi: str,
        grid: OFDMGrid,
        resource_grid: ResourceGrid,
        multipath: Multipath,
        ls_interpolation: str = "lin",
    ) -> None:
        super().__init__()
        if csi not in CSI_MODES:
            raise ChannelConfigError(f"unknown csi {csi!r}; choose from {', '.join(CSI_MODES)}")
        if ls_interpolation not in LS_INTERPOLATIONS:
            raise ChannelConfigError(
                f"unknown ls_interpolation {ls_interpolation!r}; "
                f"choose from {', '.join(LS_INTERPOLATIONS)}"
            )
        if csi != "perfect" and grid.pilot_pattern == "empty":
            raise ChannelConfigError(f"csi {csi!r} needs pilots; use pilot_pattern 'kronecker'")
        self.csi = csi
        self.estimator: torch.nn.Module | None = None
        if csi == "ls":
            self.estimator = LSChannelEstimator(resource_grid, interpolation_type=ls_interpolation)
        elif csi == "lmmse":
            if multipath.kind != "tdl":
                raise ChannelConfigError(
                    "csi 'lmmse' needs multipath 'tdl' (its covariance matrices are the TDL model's)"
                )
            freq = tdl_freq_cov_mat(
                multipath.model,
                float(grid.subcarrier_spacing),
                grid.fft_size,
                float(multipath.delay_spread),
            )
            time = tdl_time_cov_mat(
                multipath.model,
                float(multipath.ue_speed),
                float(multipath.carrier_frequency),
                float(resource_grid.ofdm_symbol_duration),
                grid.num_ofdm_symbols,
            )
            self.estimator = LMMSEChannelEstimator(resource_grid, time, freq, order="f-t")

    def forward(
        self, y: torch.Tensor, h: torch.Tensor, no: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimate the channel; see the class docstring."""
        if self.estimator is None:
            h_hat = h[:, 0, 0, 0, 0]
            return h_hat, torch.zeros(h_hat.shape, dtype=no.dtype, device=h_hat.device)
        h_hat, err_var = self.estimator(y, no)
        return h_hat[:, 0, 0, 0, 0], err_var[:, 0, 0, 0, 0]
