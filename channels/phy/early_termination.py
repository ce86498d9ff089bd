"""CRC-aided early termination of 5G LDPC belief-propagation decoding.

A receiver stops iterating on a codeword as soon as its CRC checks, as 5G NR receivers do: the codeword
is then final (a CRC24 passes a wrong codeword with probability about 2^-24). The remaining codewords go on
from their decoder state (Sionna's ``msg_v2c``) for up to the configured number of iterations, so a
codeword that never passes gets exactly the iterations a fixed-iteration decoder would give it. With a
flooding schedule the decoder state is the v2c messages alone, and with the fast decoder's layered
schedule it is the c2v messages and the a posteriori LLRs, so in both cases continuing from the state is
the same computation as uninterrupted decoding. The fast decoder's layered schedule does the rounds and
the CRC checks inside its kernel (:meth:`~channels.phy.fast_ldpc.FastLDPC5GDecoder.decode_crc_terminated`),
with the same decisions and no round trip of its state.
"""

from __future__ import annotations

import torch

__all__ = ["decode_early_terminated"]


def decode_early_terminated(
    decoder: torch.nn.Module,
    crc_decoder: torch.nn.Module,
    llr: torch.Tensor,
    max_iterations: int,
    step: int = 2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode ``llr`` in rounds of ``step`` iterations, retiring each codeword once its CRC checks.

    :param decoder: Sionna's ``LDPC5GDecoder`` built with ``return_state=True``, ``return_infobits=True``,
        hard output, or a :class:`~channels.phy.fast_ldpc.FastLDPC5GDecoder` with ``return_state=True``.
    :param crc_decoder: Sionna CRC decoder: info bits [c, k] -> (payload bits [c, k - crc], ok [c, 1]).
    :param llr: [c, n] float channel LLRs, ln P(b=1)/P(b=0).
    :param max_iterations: the iteration limit per codeword.
    :param step: iterations per round.
    :return: payload bits [c, k - crc] float and CRC verdicts [c] bool.
    """
    native = getattr(decoder, "decode_crc_terminated", None)
    result = native(llr, crc_decoder.encoder.crc_pol, max_iterations, step) if native else None
    if result is not None:
        info, ok, _ = result
        return info[..., : info.shape[-1] - crc_decoder.encoder.crc_length], ok
    active = torch.arange(llr.shape[0], device=llr.device)
    state = None
    bits_out = ok_out = None
    done = 0
    while active.numel():
        rounds = min(step, max_iterations - done)
        info, state = decoder(llr[active], num_iter=rounds, msg_v2c=state)
        bits, ok = crc_decoder(info)
        ok = ok.reshape(-1).bool()
        done += rounds
        if bits_out is None:
            bits_out = torch.zeros(
                llr.shape[0], bits.shape[-1], dtype=bits.dtype, device=llr.device
            )
            ok_out = torch.zeros(llr.shape[0], dtype=torch.bool, device=llr.device)
        final = ok if done < max_iterations else torch.ones_like(ok)
        bits_out[active[final]] = bits[final]
        ok_out[active[final]] = ok[final]
        active, state = active[~final], state[~final]
    return bits_out, ok_out
