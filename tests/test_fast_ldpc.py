"""The fast CPU LDPC decoder against Sionna's LDPC5GDecoder on the same LLRs."""

from __future__ import annotations

import numpy as np
import pytest
import sionna.phy
import torch
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper

from channels import RayleighChannel, make_channel
from channels.phy import MCS, DigitalLink, FECConfig
from channels.phy.crc import make_crc
from channels.phy.early_termination import decode_early_terminated
from channels.phy.fast_ldpc import MAX_LANES, FastLDPC5GDecoder, block_lanes
from channels.phy.fec import make_ldpc_decoder
from channels.phy.ldpc_graph import ldpc_graph
from channels.phy.ldpc_kernels import _boxplus
from simulator.config import ConfigError, parse_config

# (k, n, bits per symbol): base graph 2 with its 2Z punctured columns; base graph 1 with filler bits
# (k < k_ldpc) and the 16-QAM interleaver; a short, low-rate BG2 code with 64-QAM.
CODES = [(512, 1024, 2), (1000, 1200, 4), (100, 480, 6)]


def noisy_llrs(encoder: LDPC5GEncoder, count: int, snr_db: float, seed: int, crc: bool = False):
    """Information bits [count, k] (with ``crc`` their last 24 a CRC24B) and APP demapper logits
    [count, n] over AWGN."""
    gen = torch.Generator().manual_seed(seed)
    bits = torch.randint(0, 2, (count, encoder.k - 24 * crc), generator=gen).float()
    bits = make_crc("CRC24B")[0](bits) if crc else bits
    m = encoder.num_bits_per_symbol
    x = Mapper("qam", m)(encoder(bits))
    no = 10 ** (-snr_db / 10)
    noise = torch.complex(torch.randn(x.shape, generator=gen), torch.randn(x.shape, generator=gen))
    llr = Demapper("app", "qam", m)(x + noise * (no / 2) ** 0.5, torch.tensor(no))
    return bits, llr


def waterfall_llrs(encoder: LDPC5GEncoder, count: int, seed: int, crc: bool = False):
    """LLRs at the lowest SNR (1 dB grid) where 20 flooding boxplus-phi iterations (Sionna's
    algorithm, here the fast decoder's flooding mode, much quicker to scan with) fail on at most half
    of the codewords; the tests check that Sionna fails on some of them."""
    scan = FastLDPC5GDecoder(encoder, schedule="flooding", num_iter=20)
    for snr_db in range(-6, 25):
        bits, llr = noisy_llrs(encoder, count, float(snr_db), seed, crc)
        if (scan(llr) != bits).any(1).float().mean() <= 0.5:
            return bits, llr
    raise AssertionError("no waterfall point found")


@pytest.mark.parametrize(("k", "n", "m"), CODES)
def test_graph_is_sionnas_pruned_graph(k, n, m):
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=m)
    sionna = LDPC5GDecoder(encoder)
    graph = ldpc_graph(encoder)
    assert graph.num_vns == sionna._n_pruned and graph.num_cns == sionna.num_cns
    assert np.array_equal(graph.edge_vn, sionna._vn_idx)
    assert np.array_equal(graph.cn_edges, sionna._v2c_perm.numpy())
    assert (graph.source >= 0).sum() == n  # every received bit is used exactly once
    assert np.unique(graph.source[graph.source >= 0]).size == n


@pytest.mark.parametrize(("k", "n", "m"), CODES)
def test_flooding_makes_sionnas_decisions_on_the_same_llrs(k, n, m):
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=m)
    bits, llr = waterfall_llrs(encoder, 48, seed=k)
    sionna = LDPC5GDecoder(encoder, num_iter=20, return_state=True)
    fast = FastLDPC5GDecoder(encoder, schedule="flooding", num_iter=20, return_state=True)
    (ref, ref_state), (got, got_state) = sionna(llr), fast(llr)
    assert (ref != bits).any(1).any()  # a waterfall point: some codewords fail
    assert got.shape == ref.shape == bits.shape and got.dtype == ref.dtype == torch.float32
    # Same algorithm; exp/log and summation order may differ in the last float bit, which at this
    # size never changed a decision (checked on every code here).
    assert torch.equal(got, ref)
    assert got_state.shape == ref_state.shape
    # the state is Sionna's msg_v2c, same layout: after 3 iterations within 4.5e-4 (the phi of
    # near-zero messages magnifies rounding); after 20, 0.1 % of messages differ by more than 1e-3,
    # none in sign (measured on these codes)
    _, ref_state3 = LDPC5GDecoder(encoder, num_iter=3, return_state=True)(llr)
    assert torch.allclose(fast(llr, num_iter=3)[1], ref_state3, atol=1e-3)
    assert torch.equal(torch.sign(got_state), torch.sign(ref_state))
    # continuing from Sionna's own state gives Sionna's decisions
    assert torch.equal(fast(llr, num_iter=17, msg_v2c=ref_state3)[0], ref)


@pytest.mark.parametrize(
    ("k", "n", "m", "rule"),
    [
        (215, 1024, 2, "min-star"),  # rate 0.21, base graph 2
        (336, 1026, 6, "min-star"),
        (683, 1024, 2, "min-star"),
        (923, 1026, 6, "min-star"),
        (683, 1024, 2, "normalized-minsum"),
        (923, 1026, 6, "normalized-minsum"),
    ],
)
def test_layered_block_errors_no_worse_than_sionna(k, n, m, rule):
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=m)
    bits, llr = waterfall_llrs(encoder, 128, seed=k + 1)
    sionna_errors = int((LDPC5GDecoder(encoder, num_iter=20)(llr) != bits).any(1).sum())
    layered = FastLDPC5GDecoder(encoder, num_iter=20, cn_update=rule)
    assert layered.schedule == "layered"
    fast_errors = int((layered(llr) != bits).any(1).sum())
    assert 0 < sionna_errors < len(bits)
    assert fast_errors <= sionna_errors, (fast_errors, sionna_errors)


def test_min_star_boxplus_is_the_exact_boxplus_within_its_bound():
    a, b = np.meshgrid(np.linspace(-12, 12, 241, dtype=np.float32), np.linspace(-12, 12, 241))
    a, b = a.ravel().astype(np.float32), b.ravel().astype(np.float32)
    exact = 2 * np.arctanh(np.tanh(a.astype(np.float64) / 2) * np.tanh(b.astype(np.float64) / 2))
    got = np.array([_boxplus(np.float32(x), np.float32(y)) for x, y in zip(a, b, strict=True)])
    # two tangent errors of at most 0.0157 each, opposite in sign (the magnitude clamp only helps)
    assert np.max(np.abs(got - exact)) <= 2 * 0.0157 + 1e-5
    assert np.array_equal(np.sign(got[exact != 0]), np.sign(exact[exact != 0]))
    assert np.max(np.abs(got - exact)) > 1e-3  # an approximation, not exp/log


def test_block_width_does_not_change_decisions():
    # 100 codewords decode in blocks of 56 (2 threads) or 64 (1 thread); one at a time in blocks of 8
    encoder = LDPC5GEncoder(512, 1024, num_bits_per_symbol=2)
    _, llr = waterfall_llrs(encoder, 100, seed=5)
    decoder = FastLDPC5GDecoder(encoder, return_state=True)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        bits_1, state_1 = decoder(llr)
        torch.set_num_threads(2)
        bits_2, state_2 = decoder(llr)
    finally:
        torch.set_num_threads(threads)
    singles = [decoder(llr[i : i + 1]) for i in range(0, 100, 9)]
    assert torch.equal(bits_1, bits_2) and torch.equal(state_1, state_2)
    assert all(torch.equal(b, bits_1[i * 9 : i * 9 + 1]) for i, (b, _) in enumerate(singles))
    assert [block_lanes(c, t) for c, t in [(1, 2), (9, 1), (100, 2), (100, 1), (10**4, 2)]] == [
        8,
        16,
        56,
        MAX_LANES,
        MAX_LANES,
    ]


@pytest.mark.parametrize(
    ("mcs", "snr_db"), [(MCS("qpsk", 1 / 3), 0.0), (MCS("16qam", 3 / 4), 14.0)]
)
def test_link_decoders_on_the_same_rayleigh_llrs(mcs, snr_db):
    # Per-symbol Rayleigh fading through the link (its rate matching, CRC, early termination): LLRs
    # of deep fades near 0, of strong ones beyond llr_max. At waterfall points of the rayleigh table.
    # The fast decoder (layered min-star) makes no more block errors.
    sionna.phy.config.seed = 3
    links = [DigitalLink(mcs, FECConfig(decoder=d), RayleighChannel()) for d in ("sionna", "fast")]
    rng = np.random.default_rng(3)
    payloads = [rng.bytes(links[0].codeword_payload_bytes) for _ in range(96)]
    llr = links[0].received_llrs(payloads, snr_db)
    assert llr.shape == (96, links[0].layout.coded_bits)
    (ref_bits, ref_ok), (bits, ok) = (link.decode_llrs(llr) for link in links)
    assert 0 < np.count_nonzero(~ref_ok) < len(ref_ok)  # a waterfall point: some codewords fail
    assert links[1].decoder.cn_update == "min-star"
    assert np.count_nonzero(~ok) <= np.count_nonzero(~ref_ok)


@pytest.mark.parametrize("k", [24, 300, 700, 2000, 3900, 8448])
def test_noiseless_codewords_decode_on_both_base_graphs(k):
    n = 8448 + 1000 if k == 8448 else int(np.ceil(k / 0.6))
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=2 if n % 2 == 0 else None)
    bits = torch.randint(0, 2, (3, k), generator=torch.Generator().manual_seed(k)).float()
    llr = 6.0 * (2.0 * encoder(bits) - 1.0)
    for schedule in ("layered", "flooding"):
        assert torch.equal(FastLDPC5GDecoder(encoder, schedule=schedule, num_iter=4)(llr), bits)


@pytest.mark.parametrize("schedule", ["layered", "flooding"])
def test_crc_early_termination_equals_fixed_iterations(schedule):
    encoder = LDPC5GEncoder(512, 1024, num_bits_per_symbol=2)
    _, llr = waterfall_llrs(encoder, 48, seed=7)
    _, crc_decoder = make_crc("CRC24B")
    fixed = FastLDPC5GDecoder(encoder, schedule=schedule, num_iter=20)
    rounds = FastLDPC5GDecoder(encoder, schedule=schedule, num_iter=20, return_state=True)
    want_bits, want_ok = crc_decoder(fixed(llr))
    got_bits, got_ok = decode_early_terminated(rounds, crc_decoder, llr, 20)
    assert torch.equal(got_ok, want_ok.reshape(-1).bool()) and torch.equal(got_bits, want_bits)


class _RoundByRound(torch.nn.Module):
    """The fast decoder without its in-kernel early termination: decode_early_terminated then
    goes round by round through the returned state, as it does for Sionna's decoder."""

    def __init__(self, decoder: FastLDPC5GDecoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, llr, num_iter=None, msg_v2c=None):
        return self.decoder(llr, num_iter=num_iter, msg_v2c=msg_v2c)


@pytest.mark.parametrize(("k", "n", "m"), CODES)
def test_in_kernel_early_termination_makes_the_round_by_round_decisions(k, n, m):
    encoder = LDPC5GEncoder(k, n, num_bits_per_symbol=m)
    _, llr = waterfall_llrs(encoder, 80, seed=8, crc=True)
    crc_encoder, crc_decoder = make_crc("CRC24B")
    decoder = FastLDPC5GDecoder(encoder, return_state=True)
    threads = torch.get_num_threads()
    try:
        # On one thread the 80 codewords go 64 lanes at a time: 16 lanes are refilled, at
        # different iterations, with codewords of a different history than their neighbours'.
        for t in sorted({1, threads}):
            torch.set_num_threads(t)
            for max_iterations, step in ((20, 2), (7, 3)):
                rounds = decode_early_terminated(
                    _RoundByRound(decoder), crc_decoder, llr, max_iterations, step
                )
                native = decode_early_terminated(decoder, crc_decoder, llr, max_iterations, step)
                assert torch.equal(native[1], rounds[1]) and torch.equal(native[0], rounds[0])
            assert 0 < int((~native[1]).sum()) < len(native[1])  # some codewords fail, some pass
            info, ok, iterations = decoder.decode_crc_terminated(llr, crc_encoder.crc_pol, 20, 2)
            assert torch.equal(ok, crc_decoder(info)[1].reshape(-1).bool())  # Sionna's CRC
            assert (iterations[~ok] == 20).all() and (iterations[ok] < 20).any()
            assert (iterations % 2 == 0).all()
            _, _, iterations = decoder.decode_crc_terminated(llr, crc_encoder.crc_pol, 7, 3)
            assert set(iterations.tolist()) <= {3, 6, 7}  # checked at 3 and 6, final at 7
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("decoder", ["sionna", "fast"])
def test_link_decodes_with_either_decoder(decoder):
    link = DigitalLink(MCS("16qam", 0.5), FECConfig(decoder=decoder), make_channel("awgn", {}))
    payloads = [bytes(range(200)), b"x" * 90]
    results = link.transmit(payloads, snr_db=12.0)
    assert [r.data for r in results] == payloads and all(r.codeword_ok.all() for r in results)
    wanted = FastLDPC5GDecoder if decoder == "fast" else LDPC5GDecoder
    assert isinstance(link.decoder, wanted)


def test_decoder_choice_and_its_errors():
    assert FECConfig().decoder_on("cpu") == "fast"
    assert FECConfig().decoder_on("cuda:0") == "sionna"
    assert FECConfig(cn_update="minsum").decoder_on("cpu") == "sionna"
    assert FECConfig(decoder="fast").decoder_on("cuda") == "fast"
    assert FECConfig(decoder="fast").key == FECConfig().key == "ldpc5g_n1024_it20"
    assert FECConfig(decoder="sionna").key == "ldpc5g_n1024_it20_sionna"  # its own BLER tables
    for k in (512, 100):  # layered min-star at every rate
        decoder = FastLDPC5GDecoder(LDPC5GEncoder(k, 480 if k == 100 else 1024))
        assert (decoder.schedule, decoder.cn_update) == ("layered", "min-star")
    flooding = FastLDPC5GDecoder(LDPC5GEncoder(100, 480), schedule="flooding")
    assert flooding.cn_update == "boxplus-phi"
    with pytest.raises(ValueError, match="not a rule of the layered schedule"):
        FastLDPC5GDecoder(LDPC5GEncoder(100, 480), cn_update="boxplus-phi")
    encoder = LDPC5GEncoder(100, 200)
    assert isinstance(make_ldpc_decoder(encoder, FECConfig(decoder="sionna"), "cpu"), LDPC5GDecoder)
    with pytest.raises(ValueError, match="unknown fec decoder 'turbo'"):
        FECConfig(decoder="turbo")
    with pytest.raises(ValueError, match="needs decoder 'sionna'"):
        FECConfig(decoder="fast", cn_update="minsum")
    with pytest.raises(ValueError, match="n=200"):
        FastLDPC5GDecoder(encoder)(torch.zeros(2, 100))


def test_config_key_link_fec_decoder():
    for value in ("auto", "sionna", "fast"):
        assert parse_config({"link": {"fec": {"decoder": value}}}).link.fec.decoder == value
    with pytest.raises(ConfigError) as info:
        parse_config({"link": {"fec": {"decoder": "fastest"}}})
    assert info.value.problems == [
        "link.fec.decoder: invalid value 'fastest'; choose from 'auto', 'sionna' or 'fast'; "
        "did you mean 'fast'?"
    ]
