"""Channel-code configuration, and the LDPC decoder it selects."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

from channels.phy.fast_ldpc import FastLDPC5GDecoder

__all__ = ["CN_UPDATES", "DECODERS", "FEC_CODES", "FECConfig", "make_ldpc_decoder"]

FEC_CODES = ("ldpc5g", "none")
#: Check-node update rules of Sionna's LDPC BP decoder.
CN_UPDATES = ("boxplus-phi", "boxplus", "minsum", "offset-minsum")
#: LDPC decoder implementations: ``sionna`` (:class:`~sionna.phy.fec.ldpc.LDPC5GDecoder`, flooding
#: ``cn_update``), ``fast`` (:class:`~channels.phy.fast_ldpc.FastLDPC5GDecoder` on the CPU: layered
#: min-star belief propagation), ``auto`` (fast on the CPU, Sionna on CUDA).
DECODERS = ("auto", "sionna", "fast")


@dataclass(frozen=True)
class FECConfig:
    """The channel code of a :class:`~channels.phy.link.DigitalLink`.

    :param code: ``"ldpc5g"`` (3GPP 38.212 LDPC with rate matching) or ``"none"`` (uncoded blocks).
    :param n: codeword length in coded bits (rounded up to whole symbols by the link); for ``none``
        the length of an uncoded block.
    :param iterations: belief-propagation iterations of the LDPC decoder.
    :param cn_update: check-node rule of the decoder (``boxplus-phi`` is exact sum-product).
    :param crc: per-codeword CRC, one of Sionna's ``CRC24A|CRC24B|CRC24C|CRC16|CRC11|CRC6``; the default
        CRC24B is the one 5G NR attaches to each LDPC code block.
    :param early_termination: stop iterating on a codeword once its CRC checks (CRC-aided early
        termination, see :mod:`channels.phy.early_termination`); codewords that never pass still get
        ``iterations`` iterations.
    :param decoder: one of :data:`DECODERS`. ``fast`` decodes with layered min-star belief
        propagation, whose block error rate at equal iterations measured below Sionna's flooding
        ``boxplus-phi`` at every rate (``benchmarks/results/ldpc_bler.md``); it takes only the
        default ``cn_update``, so ``auto`` picks Sionna for any other rule. A BLER table is of the
        decoder it was measured with: :attr:`key` names Sionna's flooding decoder when it is chosen
        by name (``_sionna``) or by its rule (``_minsum`` ...); the committed tables are of ``auto``
        on the CPU, the fast decoder (``auto`` on CUDA runs Sionna's decoder and reads them too,
        which is optimistic by its later waterfall).
    """

    code: str = "ldpc5g"
    n: int = 1024
    iterations: int = 20
    cn_update: str = "boxplus-phi"
    crc: str = "CRC24B"
    early_termination: bool = True
    decoder: str = "auto"

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise ValueError(
                f"unknown fec decoder '{self.decoder}'; choose from {', '.join(DECODERS)}"
            )
        if self.decoder == "fast" and self.cn_update != "boxplus-phi":
            raise ValueError(
                f"fec decoder 'fast' takes only cn_update 'boxplus-phi'; cn_update "
                f"'{self.cn_update}' needs decoder 'sionna'"
            )
        if self.code not in FEC_CODES:
            raise ValueError(f"unknown fec code '{self.code}'; choose from {', '.join(FEC_CODES)}")
        if self.cn_update not in CN_UPDATES:
            raise ValueError(
                f"unknown cn_update '{self.cn_update}'; choose from {', '.join(CN_UPDATES)}"
            )
        if self.n < 1 or self.iterations < 1:
            raise ValueError(
                f"n and iterations must be >= 1, got n={self.n}, iterations={self.iterations}"
            )

    def decoder_on(self, device: str | torch.device) -> str:
        """The decoder this configuration runs on ``device``: ``"sionna"`` or ``"fast"``."""
        if self.decoder != "auto":
            return self.decoder
        on_cpu = torch.device(device).type == "cpu"
        return "fast" if on_cpu and self.cn_update == "boxplus-phi" else "sionna"

    @property
    def key(self) -> str:
        """A file-name-safe identifier, e.g. ``ldpc5g_n1024_it20`` (non-default rules, and the
        decoder when it is Sionna's by name, appended: ``ldpc5g_n1024_it20_sionna``)."""
        parts = [self.code, f"n{self.n}"]
        if self.code == "ldpc5g":
            parts.append(f"it{self.iterations}")
            if self.cn_update != "boxplus-phi":
                parts.append(self.cn_update)
            elif self.decoder == "sionna":
                parts.append("sionna")
        if self.crc != "CRC24B":
            parts.append(self.crc.lower())
        return "_".join(parts)


def make_ldpc_decoder(
    encoder: LDPC5GEncoder, fec: FECConfig, device: str | torch.device
) -> torch.nn.Module:
    """The LDPC decoder ``fec`` selects on ``device``, built for ``encoder``'s code: hard decisions on
    the information bits, returning its state when ``fec.early_termination`` is set (the call of
    :class:`~sionna.phy.fec.ldpc.LDPC5GDecoder` with ``hard_out=True, return_infobits=True``)."""
    if fec.decoder_on(device) == "fast":
        return FastLDPC5GDecoder(
            encoder, num_iter=fec.iterations, return_state=fec.early_termination
        )
    return LDPC5GDecoder(
        encoder,
        cn_update=fec.cn_update,
        num_iter=fec.iterations,
        hard_out=True,
        return_infobits=True,
        return_state=fec.early_termination,
        device=str(device),
    )
