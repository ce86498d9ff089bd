"""Channel models (AWGN, Rayleigh, Rician, custom) and the physical layer on Sionna (:mod:`channels.phy`).

A channel is any class built from keyword parameters whose instances are called as
``y, h = channel(x, no)`` on complex symbols [batch, symbols] (the built-in ones are
:class:`torch.nn.Module` s; a custom one need not be); see :class:`channels.base.Channel`.
"""

from channels.awgn import AWGNChannel
from channels.base import Channel, check_channel, noise_variance
from channels.block_fading import BlockFadingChannel
from channels.equalization import transmit_equalized, zf_equalize
from channels.errors import ChannelConfigError
from channels.family import channel_family
from channels.rayleigh import RayleighChannel
from channels.registry import (
    available_channels,
    channel_class,
    channel_parameters,
    check_channel_params,
    make_channel,
    register_channel,
)
from channels.rician import RicianChannel

__all__ = [
    "AWGNChannel",
    "BlockFadingChannel",
    "Channel",
    "ChannelConfigError",
    "RayleighChannel",
    "RicianChannel",
    "available_channels",
    "channel_class",
    "channel_parameters",
    "channel_family",
    "check_channel",
    "check_channel_params",
    "make_channel",
    "noise_variance",
    "register_channel",
    "transmit_equalized",
    "zf_equalize",
]
