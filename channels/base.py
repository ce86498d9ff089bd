"""The channel protocol shared by the built-in and custom channel models."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

__all__ = [
    "Channel",
    "channel_data_symbols",
    "check_channel",
    "noise_variance",
    "split_channel_output",
]


@runtime_checkable
class Channel(Protocol):
    r"""A channel model: any object configured by keyword arguments and called as ``channel(x, no)``.

    It need not subclass anything (the built-in ones are :class:`torch.nn.Module` s); a class with a
    ``__call__`` (or an ``nn.Module`` with a ``forward``) is enough.

    ``y = h * x + n`` with ``n ~ CN(0, no)``; the receiver knows ``h`` (perfect CSI).

    :input x: [batch, symbols], `torch.complex64`. Transmit symbols with unit average energy.
    :input no: `float` or tensor broadcastable to ``x``, `torch.float32`. Noise variance N0 per complex
        symbol (``no/2`` per real dimension). With unit-energy symbols, SNR = Es/N0 = 1/``no``.
    :output y: [batch, symbols], `torch.complex64`. Received symbols.
    :output h: [batch, symbols], `torch.complex64`. Channel coefficient of each symbol.

    Optional extensions (used by :class:`~channels.phy.link.DigitalLink` when present):

    - a third output ``err_var`` [batch, symbols] `torch.float32`: the variance of the error of ``h``
      when it is an estimate (imperfect CSI); the receiver adds it to the noise, i.e. its demapper sees
      ``(no + err_var) / |h|^2`` after zero forcing. Read the outputs with :func:`split_channel_output`.
    - a method ``data_symbols(channel_uses: int) -> int``: how many data symbols ``channel_uses``
      complex channel uses carry when the channel spends some on overhead (OFDM pilots, cyclic
      prefixes); without it, every channel use carries one data symbol. See
      :func:`channel_data_symbols`.

    Randomness must come from Sionna's generator (``sionna.phy.config.torch_rng()``) or torch's global
    generator, so that seeding ``sionna.phy.config.seed`` makes a run reproducible.
    """

    def __call__(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def noise_variance(snr_db: float) -> float:
    """N0 per complex symbol for unit-energy symbols at ``snr_db`` = Es/N0 in dB: ``10^(-snr_db/10)``."""
    return 10.0 ** (-snr_db / 10.0)


def split_channel_output(
    outputs: tuple[torch.Tensor, ...],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(y, h, err_var)`` from a channel's ``(y, h)`` or ``(y, h, err_var)``; ``err_var`` is `None`
    for channels that give perfect CSI."""
    if len(outputs) not in (2, 3):
        raise ValueError(f"a channel returns (y, h) or (y, h, err_var), got {len(outputs)} outputs")
    y, h, *rest = outputs
    return y, h, (rest[0] if rest else None)


def channel_data_symbols(channel: object, channel_uses: int) -> int:
    """Data symbols that ``channel_uses`` complex channel uses carry over ``channel``: its
    ``data_symbols(channel_uses)`` if it has one, else ``channel_uses``."""
    data_symbols = getattr(channel, "data_symbols", None)
    return channel_uses if data_symbols is None else int(data_symbols(channel_uses))


def _shape(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"{str(value.dtype).removeprefix('torch.')} {list(value.shape)}"
    return type(value).__name__


def check_channel(channel: object, channel_uses: int = 1024) -> None:
    """Call ``channel`` once on a small test input and check its outputs against the contract.

    The input is x = 1 [2, D] `torch.complex64` (D = the data symbols ``channel_uses`` carry, see
    :func:`channel_data_symbols`) and ``no = 0.1``; torch's global random state is restored
    afterwards. ``y`` must be a complex tensor of x's shape, ``h`` (and ``err_var``, if returned)
    tensors broadcastable to it.

    :raises ValueError: one line saying what the channel returned (or raised) and what was expected.
    """
    if not callable(channel):
        raise ValueError(
            f"{type(channel).__name__} instances are not callable: define "
            "__call__(self, x, no) -> (y, h)"
        )
    symbols = channel_data_symbols(channel, channel_uses)
    if symbols <= 0:
        return  # no data symbols in this many channel uses: nothing to send through it
    x = torch.ones(2, symbols, dtype=torch.complex64)
    with torch.random.fork_rng(devices=[]):
        try:
            outputs = channel(x, 0.1)
        except Exception as exc:  # noqa: BLE001 - a custom channel's failure, as one line
            raise ValueError(
                f"calling it on x complex64 [2, {symbols}], no=0.1 raised {type(exc).__name__}: {exc}"
            ) from None
    if not isinstance(outputs, tuple | list) or len(outputs) not in (2, 3):
        got = f"{len(outputs)} outputs" if isinstance(outputs, tuple | list) else _shape(outputs)
        raise ValueError(f"returned {got}; a channel returns (y, h) or (y, h, err_var)")
    y, h, err_var = split_channel_output(tuple(outputs))
    if not (isinstance(y, torch.Tensor) and y.is_complex() and y.shape == x.shape):
        raise ValueError(f"y is {_shape(y)}, expected complex {list(x.shape)} like x")
    for name, value in (("h", h), ("err_var", err_var)):
        if value is None:
            continue
        try:
            ok = isinstance(value, torch.Tensor) and (
                torch.broadcast_shapes(value.shape, x.shape) == x.shape
            )
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(
                f"{name} is {_shape(value)}, expected a tensor broadcastable to {list(x.shape)}"
            )
