"""The digital link: bytes -> CRC -> 5G LDPC -> QAM -> channel -> ZF -> APP demapper -> LDPC -> CRC -> bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sionna.phy.fec.ldpc import LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper

from channels.base import Channel, channel_data_symbols, noise_variance
from channels.equalization import transmit_equalized
from channels.phy.crc import make_crc
from channels.phy.early_termination import decode_early_terminated
from channels.phy.fec import FECConfig, make_ldpc_decoder
from channels.phy.framing import CodewordLayout
from channels.phy.mcs import MCS
from channels.phy.segmentation import (
    blocks_to_payloads,
    codewords_per_payload,
    payloads_to_blocks,
)

__all__ = ["DigitalLink", "LinkResult"]


@dataclass
class LinkResult:
    """What the receiver got for one payload.

    :param data: the received payload, same length as sent; hard decisions, possibly erroneous.
    :param codeword_ok: [num_codewords] `bool`, the CRC verdict of each codeword of this payload.
    :param bit_errors: payload bits that differ from the sent ones.
    :param num_bits: payload bits compared, ``8 * len(data)``.
    """

    data: bytes
    codeword_ok: np.ndarray
    bit_errors: int
    num_bits: int

    @property
    def num_codewords(self) -> int:
        """Codewords the payload occupied."""
        return int(self.codeword_ok.size)


class DigitalLink(torch.nn.Module):
    r"""A coded digital link over a channel model, on Sionna's blocks.

    Each payload is cut into codewords of :attr:`codeword_payload_bytes` bytes (the last zero-padded;
    byte ``i`` lives in codeword ``i // codeword_payload_bytes``). Per codeword: CRC
    (:class:`~sionna.phy.fec.crc.CRCEncoder`), 5G LDPC with rate matching and the 38.212 bit interleaver
    (:class:`~sionna.phy.fec.ldpc.LDPC5GEncoder`), mapping (:class:`~sionna.phy.mapping.Mapper`). The
    codewords of one payload are sent back to back as one row of the channel input, so block fading
    spans codewords. The receiver equalises with the channel's CSI (:func:`~channels.equalization.zf_equalize`),
    computes APP LLRs with the per-symbol noise variance ``(no + err_var)/|h|^2`` (``err_var`` = 0
    unless the channel returns an estimation error variance)
    (:class:`~sionna.phy.mapping.Demapper`), decodes (hard output of the information bits, by
    :class:`~sionna.phy.fec.ldpc.LDPC5GDecoder` or :class:`~channels.phy.fast_ldpc.FastLDPC5GDecoder`
    as ``fec.decoder`` selects, see :func:`~channels.phy.fec.make_ldpc_decoder`) and checks the CRC. Uncoded MCS skip the LDPC code and
    decide each bit by the sign of its LLR. An MCS with ``repetitions`` R sends each codeword's
    symbols R times, one copy after the other, and adds the copies' LLRs before decoding.

    :param mcs: modulation and code rate.
    :param fec: channel code configuration.
    :param channel: a channel model, ``channel(x, no) -> (y, h)`` or ``(y, h, err_var)``, optionally with
        ``data_symbols(channel_uses)`` (see :class:`channels.base.Channel`).
    :param device: torch device of the Sionna blocks; `None` = ``sionna.phy.config.device``.
    :param max_batch_codewords: codewords decoded per LDPC call (bounds the decoder's memory).

    .. code-block:: python

        link = DigitalLink(MCS("16qam", 0.5), FECConfig(), make_channel("awgn"))
        [result] = link.transmit([b"hello"], snr_db=10.0)
        assert result.data == b"hello" and result.codeword_ok.all()
    """

    def __init__(
        self,
        mcs: MCS,
        fec: FECConfig,
        channel: Channel,
        device: str | None = None,
        max_batch_codewords: int = 2048,
    ) -> None:
        super().__init__()
        self.mcs, self.fec, self.channel = mcs, fec, channel
        self.layout = CodewordLayout.of(mcs, fec)
        self.max_batch_codewords = max_batch_codewords
        constellation, bits = mcs.constellation
        self.mapper = Mapper(constellation, bits, device=device)
        self.demapper = Demapper("app", constellation, bits, device=device)
        self.crc_encoder, self.crc_decoder = make_crc(fec.crc, device)
        self.device = self.mapper.device
        if self.layout.coded:
            self.encoder = LDPC5GEncoder(
                self.layout.info_bits,
                self.layout.coded_bits,
                num_bits_per_symbol=bits if bits > 1 else None,
                device=device,
                check_input=False,
            )
            self.decoder = make_ldpc_decoder(self.encoder, fec, self.device)

    @property
    def codeword_payload_bytes(self) -> int:
        """Payload bytes per codeword (information bits minus CRC, whole bytes)."""
        return self.layout.payload_bytes

    @property
    def symbols_per_codeword(self) -> int:
        """Complex channel symbols per codeword."""
        return self.layout.symbols_per_codeword

    def payload_bytes(self, num_symbols: int) -> int:
        """Payload bytes that ``num_symbols`` complex channel uses carry (whole codewords only).

        A channel with overhead (OFDM pilots and cyclic prefix) converts channel uses to data symbols
        with its ``data_symbols`` method (:func:`~channels.base.channel_data_symbols`).
        """
        data = channel_data_symbols(self.channel, num_symbols)
        return (data // self.symbols_per_codeword) * self.codeword_payload_bytes

    def _encode(self, bits: torch.Tensor) -> torch.Tensor:
        """[c, payload bits] float -> [c, symbols_per_codeword] complex symbols."""
        info = self.crc_encoder(bits)
        if self.layout.coded:
            coded = self.encoder(info)
        else:
            padding = self.layout.coded_bits - self.layout.info_bits
            coded = torch.nn.functional.pad(info, (0, padding))
        return self.mapper(coded).repeat(1, self.layout.repetitions)  # copies one after the other

    def _llrs(self, x_hat: torch.Tensor, no_eff: torch.Tensor) -> torch.Tensor:
        """[c, symbols] equalised symbols and noise variances -> [c, coded bits] LLRs, copies combined."""
        llr = self.demapper(x_hat, no_eff)  # ln P(b=1)/P(b=0), what the LDPC decoder expects
        copies = self.layout.repetitions
        return llr.reshape(llr.shape[0], copies, -1).sum(1)  # chase combining of the copies

    def _decode(self, llr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[c, coded bits] LLRs -> payload bits [c, 8 * bytes], CRC ok [c]."""
        if self.layout.coded and self.fec.early_termination:
            return decode_early_terminated(self.decoder, self.crc_decoder, llr, self.fec.iterations)
        if self.layout.coded:
            info = self.decoder(llr)
        else:
            info = (llr[:, : self.layout.info_bits] > 0).to(llr.dtype)
        bits, ok = self.crc_decoder(info)
        return bits, ok.squeeze(-1)

    def _through_channel(
        self, symbols: torch.Tensor, counts: list[int], no: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Send each payload's codewords back to back as one channel row; return per-codeword
        equalised symbols and effective noise variances, both [num_codewords, symbols_per_codeword]."""
        spc = self.symbols_per_codeword
        rows = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
        first = torch.tensor([0, *np.cumsum(counts)[:-1].tolist()])
        slots = torch.arange(len(rows)) - first[rows]
        x = torch.zeros(len(counts), max(counts), spc, dtype=symbols.dtype, device=symbols.device)
        x[rows, slots] = symbols
        x_hat, no_eff = transmit_equalized(self.channel, x.reshape(len(counts), -1), no)
        shape = (len(counts), max(counts), spc)
        return x_hat.reshape(shape)[rows, slots], no_eff.reshape(shape)[rows, slots]

    def received_llrs(self, payloads: Sequence[bytes], snr_db: float) -> torch.Tensor:
        """Send ``payloads`` at ``snr_db`` and return what the receiver hands its decoder: the LLRs
        ln P(b=1)/P(b=0) of every codeword's coded bits, [total codewords, coded bits] `float32`
        (repetitions combined), codewords in payload order; [0, coded bits] for empty payloads.

        Another link of the same MCS and code (another ``fec.decoder``) decodes the same LLRs with
        :meth:`decode_llrs`: same codewords, same noise.
        """
        counts = codewords_per_payload([len(p) for p in payloads], self.codeword_payload_bytes)
        if sum(counts) == 0:
            return torch.zeros(0, self.layout.coded_bits, device=self.device)
        with torch.inference_mode():
            sent_bits = torch.from_numpy(payloads_to_blocks(payloads, self.codeword_payload_bytes))
            sent_bits = sent_bits.to(self.device)
            symbols = torch.cat(
                [self._encode(c) for c in sent_bits.split(self.max_batch_codewords)]
            )
            sent_rows = [c for c in counts if c]
            x_hat, no_eff = self._through_channel(symbols, sent_rows, noise_variance(snr_db))
            return torch.cat(
                [
                    self._llrs(x, n)
                    for x, n in zip(
                        x_hat.split(self.max_batch_codewords),
                        no_eff.split(self.max_batch_codewords),
                        strict=True,
                    )
                ]
            )

    def decode_llrs(self, llr: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Decode [c, coded bits] LLRs (:meth:`received_llrs`) in batches of
        :attr:`max_batch_codewords`: payload bits [c, 8 * :attr:`codeword_payload_bytes`] `float32`
        and the CRC verdicts [c] `bool`."""
        if llr.shape[0] == 0:
            return np.zeros((0, 8 * self.codeword_payload_bytes), np.float32), np.zeros(0, bool)
        with torch.inference_mode():
            decoded = [self._decode(c) for c in llr.split(self.max_batch_codewords)]
            bits = torch.cat([d[0] for d in decoded]).cpu().numpy()
            ok = torch.cat([d[1] for d in decoded]).cpu().numpy().astype(bool, copy=False)
        return bits, ok

    def transmit(self, payloads: Sequence[bytes], snr_db: float) -> list[LinkResult]:
        """Send ``payloads`` at ``snr_db`` (Es/N0 of a complex symbol, dB), all codewords in one batch.

        :param payloads: byte strings; an empty one gives an empty result (0 codewords).
        :param snr_db: SNR in dB; the channel gets ``no = 10^(-snr_db/10)``.
        :return: one :class:`LinkResult` per payload, in order.
        """
        lengths = [len(p) for p in payloads]
        counts = codewords_per_payload(lengths, self.codeword_payload_bytes)
        if sum(counts) == 0:
            return [LinkResult(b"", np.zeros(0, dtype=bool), 0, 0) for _ in payloads]
        bits, ok = self.decode_llrs(self.received_llrs(payloads, snr_db))
        received = blocks_to_payloads(bits, lengths)
        results, start = [], 0
        for sent, data, count in zip(payloads, received, counts, strict=True):
            diff = np.bitwise_xor(np.frombuffer(sent, np.uint8), np.frombuffer(data, np.uint8))
            errors = int(np.unpackbits(diff).sum())
            results.append(
                LinkResult(data, ok[start : start + count].copy(), errors, 8 * len(sent))
            )
            start += count
        return results
