r"""Numba kernels of belief-propagation decoding over an :class:`~channels.phy.ldpc_graph.LDPCGraph`.

Codewords are decoded in blocks: every message is a vector of the block's codewords (:data:`LANES`
for the flooding kernel, a ``lanes`` argument of 8 to 64 for the layered ones), so the inner loops
run over codewords and compile to SIMD instructions (the inter-frame layout of AFF3CT's and
OpenAirInterface's CPU decoders); blocks run in parallel on numba's threads.

Two schedules:

- :func:`decode_flooding` repeats Sionna's :class:`~sionna.phy.fec.ldpc.LDPCBPDecoder` step by step
  (flooding schedule, the same check-node rules ``boxplus-phi``, ``minsum``, ``offset-minsum``, the same
  clipping to :math:`\pm` ``llr_max`` and ``sign(0) = +1``, the same edge order); the state is Sionna's
  ``msg_v2c``.
- :func:`decode_layered` is row-layered belief propagation (each check node updates the a posteriori
  LLRs at once, so later checks of the same iteration see the new values; about twice the
  convergence speed of flooding):

  .. math::
      t_{v} = L_v - r_{c \to v}, \qquad
      r_{c \to v} = \mathop{\boxplus}_{v' \ne v} t_{v'}, \qquad L_v = t_v + r_{c \to v}

  with the boxplus in its min-star form (:func:`_boxplus`) or, as normalised min-sum,
  :math:`\alpha \prod \operatorname{sign}(t_{v'}) \min |t_{v'}|` (Chen and Fossorier, "Near optimum
  universal belief propagation based decoding of LDPC codes", 2002; Hocevar, "A reduced complexity
  decoder architecture via layered decoding of LDPC codes", 2004). Its state is
  ``[r (E values) | L (N values)]`` per codeword. :func:`decode_layered_crc` is the same decoder
  with CRC-aided early termination inside the kernel.

All LLRs in and out are logits :math:`\ln P(b=1)/P(b=0)` (Sionna's convention); inside, the kernels use
:math:`\ln P(b=0)/P(b=1)` as Sionna does. A bit is decided 1 where the a posteriori LLR is :math:`\le 0`.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "LANES",
    "LAYERED_RULES",
    "RULES",
    "decode_flooding",
    "decode_layered",
    "decode_layered_crc",
]

#: Codewords per SIMD block (16 float32 = one AVX-512 register).
LANES = 16
#: Check-node rule name -> code of :func:`decode_flooding`.
RULES = {"boxplus-phi": 0, "minsum": 1, "offset-minsum": 2}
_PUNCTURED, _FILLER = -1, -2
_LARGE = np.float32(1e6)  # Sionna's padding value of the min-sum rules
_HUGE = np.float32(1e30)  # "no minimum yet" of the layered kernel (finite: it runs with fastmath)


@numba.njit(inline="always")
def _phi(x: np.float32) -> np.float32:
    """Sionna's float32 phi(x) = -log(tanh(x/2)) = log(e^x + 1) - log(e^x - 1), x clamped first."""
    x = min(max(x, np.float32(8.5e-8)), np.float32(16.635532))
    e = np.exp(x)
    return np.log(e + np.float32(1.0)) - np.log(e - np.float32(1.0))


@numba.njit(inline="always")
def _load_lane(
    app: np.ndarray, llr: np.ndarray, source: np.ndarray, row: int, lane: int, llr_max: np.float32
) -> None:
    """Clipped channel LLRs ln P(0)/P(1) of codeword ``row`` of ``llr`` into ``app[:, lane]``."""
    for v in range(source.size):
        s = source[v]
        if s == _PUNCTURED:
            app[v, lane] = 0.0
            continue
        x = -llr_max if s == _FILLER else llr[row, s]
        app[v, lane] = -min(max(x, -llr_max), llr_max)


@numba.njit(inline="always")
def _channel_llrs(
    llr: np.ndarray, source: np.ndarray, first: int, count: int, llr_max: np.float32, lanes: int
) -> np.ndarray:
    """[N, lanes] clipped channel LLRs ln P(0)/P(1) of codewords first..first+count-1 (rest 0)."""
    ch = np.zeros((source.size, lanes), dtype=np.float32)
    for lane in range(count):
        _load_lane(ch, llr, source, first + lane, lane, llr_max)
    return ch


@numba.njit(inline="always")
def _max_degree(cn_ptr: np.ndarray) -> int:
    """The largest check-node degree of a CSR pointer array."""
    max_deg = 0
    for c in range(cn_ptr.size - 1):
        max_deg = max(max_deg, cn_ptr[c + 1] - cn_ptr[c])
    return max_deg


@numba.njit(inline="always")
def _store_lane(bits: np.ndarray, row: int, app: np.ndarray, lane: int) -> None:
    """Hard decisions (1 where the LLR ln P(0)/P(1) is <= 0) of ``app[:k, lane]`` into ``bits[row]``."""
    for i in range(bits.shape[1]):
        bits[row, i] = 1.0 if app[i, lane] <= 0 else 0.0


@numba.njit(inline="always")
def _store_decisions(bits: np.ndarray, app: np.ndarray, first: int, count: int) -> None:
    """Hard decisions (1 where the LLR ln P(0)/P(1) is <= 0) of the first k positions into ``bits``."""
    for lane in range(count):
        _store_lane(bits, first + lane, app, lane)


@numba.njit(parallel=True, cache=True)
def decode_flooding(
    llr: np.ndarray,
    source: np.ndarray,
    edge_vn: np.ndarray,
    vn_ptr: np.ndarray,
    cn_ptr: np.ndarray,
    cn_edges: np.ndarray,
    num_iter: int,
    rule: int,
    llr_max: float,
    state: np.ndarray,
    has_state: bool,
    bits: np.ndarray,
    state_out: np.ndarray,
) -> None:
    """Sionna's flooding BP on ``llr`` [C, n] float32 logits; writes ``bits`` [C, k] float32 0/1 and
    ``state_out`` [C, E] (Sionna's ``msg_v2c``, logits); ``state`` [C, E] is read if ``has_state``."""
    num_cw = bits.shape[0]
    num_vns, num_edges = source.size, edge_vn.size
    lmax = np.float32(llr_max)
    offset = np.float32(0.5) if rule == 2 else np.float32(0.0)
    max_deg = _max_degree(cn_ptr)
    for block in numba.prange((num_cw + LANES - 1) // LANES):
        first = block * LANES
        count = min(LANES, num_cw - first)
        ch = _channel_llrs(llr, source, first, count, lmax, LANES)
        v2c = np.zeros((num_edges, LANES), dtype=np.float32)
        c2v = np.zeros((num_edges, LANES), dtype=np.float32)
        x = ch.copy()
        for e in range(num_edges):
            for lane in range(LANES):
                v2c[e, lane] = (
                    -state[first + lane, e] if has_state and lane < count else ch[edge_vn[e], lane]
                )
        sgn = np.empty((max_deg, LANES), dtype=np.float32)
        mag = np.empty((max_deg, LANES), dtype=np.float32)
        node = np.empty(LANES, dtype=np.float32)
        total = np.empty(LANES, dtype=np.float32)
        low2 = np.empty(LANES, dtype=np.float32)
        for _ in range(num_iter):
            for c in range(cn_ptr.size - 1):
                start, deg = cn_ptr[c], cn_ptr[c + 1] - cn_ptr[c]
                node[:] = 1.0
                total[:] = 0.0 if rule == 0 else _LARGE
                for j in range(deg):
                    e = cn_edges[start + j]
                    for lane in range(LANES):
                        m = v2c[e, lane]
                        s = np.float32(-1.0) if m < 0 else np.float32(1.0)
                        sgn[j, lane] = s
                        node[lane] *= s
                        a = abs(m)
                        if rule == 0:
                            a = _phi(a)
                            total[lane] += a
                        else:
                            total[lane] = min(total[lane], a)
                        mag[j, lane] = a
                if rule != 0:  # Sionna's second minimum: min over non-minimum (|x| - min) + min
                    low2[:] = _LARGE
                    for j in range(deg):
                        for lane in range(LANES):
                            d = mag[j, lane] - total[lane]
                            if d != 0:
                                low2[lane] = min(low2[lane], d)
                    for lane in range(LANES):
                        low2[lane] += total[lane]
                    for lane in range(LANES):  # two minima: every edge gets the minimum
                        hits = 0
                        for j in range(deg):
                            if mag[j, lane] - total[lane] == 0:
                                hits += 1
                        if hits > 1:
                            low2[lane] = total[lane]
                for j in range(deg):
                    e = cn_edges[start + j]
                    for lane in range(LANES):
                        if rule == 0:
                            out = _phi(total[lane] - mag[j, lane])
                        else:
                            is_min = mag[j, lane] - total[lane] == 0
                            out = low2[lane] if is_min else total[lane]
                            out = max(out - offset, np.float32(0.0))
                        out = sgn[j, lane] * node[lane] * out
                        c2v[e, lane] = min(max(out, -lmax), lmax)
            for v in range(num_vns):
                for lane in range(LANES):
                    acc = np.float32(0.0)
                    for e in range(vn_ptr[v], vn_ptr[v + 1]):
                        acc += c2v[e, lane]
                    tot = acc + ch[v, lane]
                    for e in range(vn_ptr[v], vn_ptr[v + 1]):
                        v2c[e, lane] = min(max(tot - c2v[e, lane], -lmax), lmax)
                    x[v, lane] = min(max(tot, -lmax), lmax)
        _store_decisions(bits, x, first, count)
        for lane in range(count):
            for e in range(num_edges):
                state_out[first + lane, e] = -v2c[e, lane]


#: Check-node rule name -> code of :func:`decode_layered`.
LAYERED_RULES = {"normalized-minsum": 0, "min-star": 1}
#: Tangents (intercept, slope) of f(x) = ln(1 + e^-x) at x = 0.179, 0.919, 1.804, 3.128 (chosen for
#: the least worst-case error): f is convex, so the largest tangent (or 0) is within 0.0157 below it
#: for every x >= 0, with no exp/log.
_T0, _T1, _T2, _T3 = (
    (np.float32(0.68917), np.float32(-0.45546)),
    (np.float32(0.59780), np.float32(-0.28520)),
    (np.float32(0.40734), np.float32(-0.14131)),
    (np.float32(0.17408), np.float32(-0.04195)),
)


@numba.njit(inline="always")
def _log1p_exp_neg(x: np.float32) -> np.float32:
    """ln(1 + e^-x) for x >= 0 from the tangents ``_T*``, within 0.0157 (below); the maxima form a
    tree, not a chain, so that the dependent latency stays short."""
    a = max(_T0[0] + _T0[1] * x, _T1[0] + _T1[1] * x)
    b = max(_T2[0] + _T2[1] * x, max(_T3[0] + _T3[1] * x, np.float32(0.0)))
    return max(a, b)


@numba.njit(inline="always")
def _boxplus(a: np.float32, b: np.float32) -> np.float32:
    """a [+] b = 2 artanh(tanh(a/2) tanh(b/2)) in the min-star form
    sign(a) sign(b) min(|a|, |b|) + ln(1 + e^-|a+b|) - ln(1 + e^-|a-b|), magnitude clamped at 0."""
    x, y = abs(a), abs(b)
    m = min(x, y) + _log1p_exp_neg(x + y) - _log1p_exp_neg(abs(x - y))
    return np.copysign(max(m, np.float32(0.0)), a * b)


@numba.njit(inline="always")
def _min_star_messages(t: np.ndarray, deg: int, fwd: np.ndarray, bwd: np.ndarray) -> None:
    """Extrinsic boxplus of ``t`` [deg, lanes] written over ``fwd``: ``fwd[j]`` = boxplus of every
    ``t[j']``, j' != j (forward-backward, 3 (deg - 2) boxplus per lane; ``bwd`` is scratch, its
    unused row 0 the forward accumulator)."""
    lanes = t.shape[1]
    bwd[deg - 1, :] = t[deg - 1, :]
    for j in range(deg - 2, 0, -1):
        for lane in range(lanes):
            bwd[j, lane] = _boxplus(t[j, lane], bwd[j + 1, lane])
    acc = bwd[0]
    acc[:] = t[0, :]
    fwd[0, :] = bwd[1, :]
    for j in range(1, deg - 1):
        for lane in range(lanes):
            fwd[j, lane] = _boxplus(acc[lane], bwd[j + 1, lane])
            acc[lane] = _boxplus(acc[lane], t[j, lane])
    fwd[deg - 1, :] = acc


@numba.njit(inline="always")
def _normalized_minsum_messages(
    t: np.ndarray,
    deg: int,
    scale: np.float32,
    out: np.ndarray,
    low1: np.ndarray,
    low2: np.ndarray,
    where: np.ndarray,
    sign: np.ndarray,
) -> None:
    """Normalised min-sum messages of ``t`` [deg, lanes] into ``out``: ``scale`` x the product of the
    other signs x the smallest other magnitude (``low1``, ``low2``, ``where``, ``sign``: [lanes]
    scratch)."""
    lanes = t.shape[1]
    low1[:] = _HUGE
    low2[:] = _HUGE
    where[:] = 0
    sign[:] = 1.0
    for j in range(deg):
        for lane in range(lanes):
            x = t[j, lane]
            a = abs(x)
            sign[lane] = -sign[lane] if x < 0 else sign[lane]
            low2[lane] = min(low2[lane], max(low1[lane], a))
            where[lane] = j if a < low1[lane] else where[lane]
            low1[lane] = min(low1[lane], a)
    for j in range(deg):
        for lane in range(lanes):
            m = low2[lane] if where[lane] == j else low1[lane]
            out[j, lane] = scale * m * (-sign[lane] if t[j, lane] < 0 else sign[lane])


@numba.njit(inline="always")
def _layered_iteration(
    app: np.ndarray,
    c2v: np.ndarray,
    edge_vn: np.ndarray,
    cn_ptr: np.ndarray,
    cn_edges: np.ndarray,
    rule: int,
    scale: np.float32,
    scratch: tuple,
) -> None:
    """One pass over every check node in index order, updating ``app`` [N, lanes] and ``c2v``
    [E, lanes] in place (``scratch``: the buffers of :func:`_layered_scratch`)."""
    t, out, bwd, low1, low2, where, sign = scratch
    lanes = app.shape[1]
    for c in range(cn_ptr.size - 1):
        start, deg = cn_ptr[c], cn_ptr[c + 1] - cn_ptr[c]
        for j in range(deg):
            e = cn_edges[start + j]
            v = edge_vn[e]
            for lane in range(lanes):
                t[j, lane] = app[v, lane] - c2v[e, lane]
        if deg == 1:  # a single-edge check fixes its bit to 0
            out[0, :] = _HUGE
        elif rule == 1:
            _min_star_messages(t, deg, out, bwd)
        else:
            _normalized_minsum_messages(t, deg, scale, out, low1, low2, where, sign)
        for j in range(deg):
            e = cn_edges[start + j]
            v = edge_vn[e]
            for lane in range(lanes):
                c2v[e, lane] = out[j, lane]
                app[v, lane] = t[j, lane] + out[j, lane]


@numba.njit(inline="always")
def _layered_scratch(max_deg: int, lanes: int) -> tuple:
    """The per-block buffers of :func:`_layered_iteration`."""
    return (
        np.empty((max_deg, lanes), dtype=np.float32),
        np.empty((max_deg, lanes), dtype=np.float32),
        np.empty((max_deg, lanes), dtype=np.float32),
        np.empty(lanes, dtype=np.float32),
        np.empty(lanes, dtype=np.float32),
        np.empty(lanes, dtype=np.int32),
        np.empty(lanes, dtype=np.float32),
    )


@numba.njit(parallel=True, cache=True, fastmath=True)
def decode_layered(
    llr: np.ndarray,
    source: np.ndarray,
    edge_vn: np.ndarray,
    cn_ptr: np.ndarray,
    cn_edges: np.ndarray,
    num_iter: int,
    rule: int,
    alpha: float,
    llr_max: float,
    state: np.ndarray,
    has_state: bool,
    bits: np.ndarray,
    state_out: np.ndarray,
    lanes: int,
) -> None:
    """Layered belief propagation on ``llr`` [C, n] float32 logits, check nodes in index order, with
    the check-node rule ``rule`` (:data:`LAYERED_RULES`: normalised min-sum with factor ``alpha``, or
    min-star); writes ``bits`` [C, k] float32 0/1 and ``state_out`` [C, E + N]; reads ``state`` if
    ``has_state``. Codewords go in blocks of ``lanes`` (a multiple of 8): the check-node recursions
    are serial along an edge, so more codewords side by side hide their latency."""
    num_cw = bits.shape[0]
    num_vns, num_edges = source.size, edge_vn.size
    lmax, scale = np.float32(llr_max), np.float32(alpha)
    max_deg = _max_degree(cn_ptr)
    for block in numba.prange((num_cw + lanes - 1) // lanes):
        first = block * lanes
        count = min(lanes, num_cw - first)
        c2v = np.zeros((num_edges, lanes), dtype=np.float32)
        if has_state:
            app = np.zeros((num_vns, lanes), dtype=np.float32)
            for lane in range(count):
                for e in range(num_edges):
                    c2v[e, lane] = state[first + lane, e]
                for v in range(num_vns):
                    app[v, lane] = state[first + lane, num_edges + v]
        else:
            app = _channel_llrs(llr, source, first, count, lmax, lanes)
        scratch = _layered_scratch(max_deg, lanes)
        for _ in range(num_iter):
            _layered_iteration(app, c2v, edge_vn, cn_ptr, cn_edges, rule, scale, scratch)
        _store_decisions(bits, app, first, count)
        for lane in range(count):
            for e in range(num_edges):
                state_out[first + lane, e] = c2v[e, lane]
            for v in range(num_vns):
                state_out[first + lane, num_edges + v] = app[v, lane]


@numba.njit(inline="always")
def _crc_checks(app: np.ndarray, lane: int, k: int, poly: np.int64, length: int) -> bool:
    """Whether the hard decisions on positions 0..k-1 of ``app[:, lane]`` (information bits, CRC
    parity last) are a multiple of the CRC polynomial: long division one bit at a time, the
    ``length``-bit register in an integer, ``poly`` the polynomial's lower ``length`` coefficients
    (highest degree in the top bit)."""
    mask = (np.int64(1) << length) - 1
    register = np.int64(0)
    for i in range(k):
        top = (register >> (length - 1)) & 1
        register = ((register << 1) | (1 if app[i, lane] <= 0 else 0)) & mask
        if top:
            register ^= poly
    return register == 0


@numba.njit(parallel=True, cache=True, fastmath=True)
def decode_layered_crc(
    llr: np.ndarray,
    source: np.ndarray,
    edge_vn: np.ndarray,
    cn_ptr: np.ndarray,
    cn_edges: np.ndarray,
    max_iter: int,
    step: int,
    rule: int,
    alpha: float,
    llr_max: float,
    crc_pol: np.ndarray,
    bits: np.ndarray,
    ok: np.ndarray,
    iterations: np.ndarray,
    lanes: int,
    shares: int,
) -> None:
    """:func:`decode_layered` from the channel LLRs with CRC-aided early termination inside the
    kernel: each codeword is checked after every ``step`` of its iterations and after
    ``max_iter``; once its information bits pass the CRC (:func:`_crc_checks`), or at ``max_iter``,
    it is final, its decisions stored. ``crc_pol`` [L + 1] int: the polynomial's coefficients,
    highest degree first (as Sionna's ``CRCEncoder.crc_pol``). Writes ``bits`` [C, k] float32 0/1,
    ``ok`` [C] bool (CRC verdicts) and ``iterations`` [C] int32 (iterations until each codeword was
    final). The same decisions as rounds of :func:`decode_layered` continued from its state.

    The codewords are cut into ``shares`` contiguous shares (one per thread), each decoded
    ``lanes`` at a time with lane refill: a lane whose codeword is final takes the next codeword of
    its share, so a codeword that needs every iteration does not hold the others of its block (at
    the waterfall, where some codewords of almost every block fail, a block that waits for its
    slowest lane saves almost nothing over fixed iterations)."""
    num_cw, k = bits.shape
    num_vns, num_edges = source.size, edge_vn.size
    lmax, scale = np.float32(llr_max), np.float32(alpha)
    length = crc_pol.size - 1
    poly = np.int64(0)
    for j in range(length):
        poly = (poly << 1) | np.int64(crc_pol[j + 1])
    max_deg = _max_degree(cn_ptr)
    per_share = (num_cw + shares - 1) // shares
    for share in numba.prange(shares):
        nxt, end = share * per_share, min(num_cw, (share + 1) * per_share)
        c2v = np.zeros((num_edges, lanes), dtype=np.float32)
        app = np.zeros((num_vns, lanes), dtype=np.float32)
        scratch = _layered_scratch(max_deg, lanes)
        row = np.full(lanes, -1, dtype=np.int64)  # the codeword in each lane; -1: idle
        done = np.zeros(lanes, dtype=np.int32)  # its iterations so far
        active = 0
        for lane in range(lanes):
            if nxt < end:
                _load_lane(app, llr, source, nxt, lane, lmax)
                row[lane], nxt, active = nxt, nxt + 1, active + 1
        while active:
            rounds = step
            for lane in range(lanes):  # up to the nearest check of any active lane
                if row[lane] >= 0:
                    check = min((done[lane] // step + 1) * step, max_iter)
                    rounds = min(rounds, check - done[lane])
            for _ in range(rounds):
                _layered_iteration(app, c2v, edge_vn, cn_ptr, cn_edges, rule, scale, scratch)
            for lane in range(lanes):
                if row[lane] < 0:
                    continue
                done[lane] += rounds
                if done[lane] % step and done[lane] < max_iter:
                    continue
                passed = _crc_checks(app, lane, k, poly, length)
                if not passed and done[lane] < max_iter:
                    continue
                r = row[lane]
                ok[r], iterations[r] = passed, done[lane]
                _store_lane(bits, r, app, lane)
                if nxt < end:  # refill the lane
                    _load_lane(app, llr, source, nxt, lane, lmax)
                    for e in range(num_edges):
                        c2v[e, lane] = 0.0
                    row[lane], done[lane], nxt = nxt, 0, nxt + 1
                else:
                    row[lane] = -1
                    active -= 1
