"""The Tanner graph of a rate-matched 5G NR LDPC code, as index arrays for a CPU decoder.

Built from Sionna's own :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` (its lifted parity-check matrix
``pcm``), so both base graphs and every lifting size come for free, and pruned and rate-recovered
exactly as :class:`~sionna.phy.fec.ldpc.LDPC5GDecoder` does:

- the trailing degree-1 parity columns that rate matching never sends are pruned with their checks;
- the mother codeword is ``[2Z punctured systematic bits | k - 2Z received systematic bits |
  k_ldpc - k filler bits | received parity bits | not-received parity bits]``;
- punctured and not-received positions get LLR 0, filler bits a known 0 (LLR ``llr_max``);
- the 38.212 output bit interleaver (when the encoder has ``num_bits_per_symbol``) is undone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sionna.phy.fec.ldpc import LDPC5GEncoder

__all__ = ["FILLER", "PUNCTURED", "LDPCGraph", "ldpc_graph"]

#: :attr:`LDPCGraph.source` value of a position that gets LLR 0 (punctured or not received).
PUNCTURED = -1
#: :attr:`LDPCGraph.source` value of a filler bit (a known 0).
FILLER = -2


@dataclass(frozen=True)
class LDPCGraph:
    """Index arrays of one pruned, rate-recovered 5G LDPC code (all ``int32``).

    Edges are numbered as in Sionna's :class:`~sionna.phy.fec.ldpc.LDPCBPDecoder`: sorted by variable
    node, so Sionna's decoder state ``msg_v2c`` [batch, num_edges] has the same layout.

    :param k: information bits (the first ``k`` mother-code positions).
    :param n: rate-matched codeword length (the decoder's input length).
    :param num_vns: variable nodes after pruning (``N``).
    :param num_cns: check nodes after pruning (``M``).
    :param source: [N] where each mother-code position's channel LLR comes from: an index into the
        rate-matched input, :data:`PUNCTURED` or :data:`FILLER`.
    :param edge_vn: [E] variable node of each edge.
    :param vn_ptr: [N + 1] edges of variable node ``v`` are ``vn_ptr[v]:vn_ptr[v + 1]``.
    :param cn_ptr: [M + 1] check ``c`` owns ``cn_edges[cn_ptr[c]:cn_ptr[c + 1]]``.
    :param cn_edges: [E] edge ids grouped by check node, in Sionna's order within a check.
    """

    k: int
    n: int
    num_vns: int
    num_cns: int
    source: np.ndarray
    edge_vn: np.ndarray
    vn_ptr: np.ndarray
    cn_ptr: np.ndarray
    cn_edges: np.ndarray

    @property
    def num_edges(self) -> int:
        """Edges of the pruned graph (``E``)."""
        return int(self.edge_vn.size)

    @property
    def max_cn_degree(self) -> int:
        """The largest check-node degree."""
        return int(np.diff(self.cn_ptr).max())


def _pruned_length(encoder: LDPC5GEncoder) -> int:
    """Mother-code positions kept by Sionna's ``prune_pcm=True`` (flooding schedule)."""
    degrees = np.asarray(encoder.pcm.sum(axis=0)).ravel()
    last = encoder.n_ldpc
    for idx in range(encoder.n_ldpc - 1, 0, -1):
        if degrees[idx] != 1:
            break
        last = idx
    punctured = encoder.n_cb_comp - encoder.n
    return int(max(last, encoder.n_ldpc - punctured))


def _source(encoder: LDPC5GEncoder, num_vns: int) -> np.ndarray:
    """[num_vns] input index of each mother-code position (see :class:`LDPCGraph`)."""
    k, z, n, k_ldpc = encoder.k, encoder.z, encoder.n, encoder.k_ldpc
    buffer = np.full(num_vns - 2 * z - encoder.k_filler, PUNCTURED, dtype=np.int64)
    if encoder.num_bits_per_symbol is None:
        buffer[:n] = np.arange(n)
    else:
        buffer[:n] = encoder.out_int_inv.cpu().numpy()
    source = np.concatenate(
        [
            np.full(2 * z, PUNCTURED),
            buffer[: k - 2 * z],
            np.full(k_ldpc - k, FILLER),
            buffer[k - 2 * z :],
        ]
    )
    return source.astype(np.int32)


def _build(encoder: LDPC5GEncoder) -> LDPCGraph:
    num_vns = _pruned_length(encoder)
    pruned = encoder.n_ldpc - num_vns
    pcm = encoder.pcm
    if pruned:
        pcm = pcm[:-pruned, :-pruned]
    cn_idx, vn_idx, _ = sp.find(pcm)
    order = np.argsort(vn_idx)  # Sionna's edge numbering (same sort, same ties)
    cn_idx, vn_idx = cn_idx[order], vn_idx[order]
    cn_edges = np.argsort(cn_idx)  # Sionna's v2c permutation into check-node order
    return LDPCGraph(
        k=encoder.k,
        n=encoder.n,
        num_vns=num_vns,
        num_cns=int(pcm.shape[0]),
        source=_source(encoder, num_vns),
        edge_vn=vn_idx.astype(np.int32),
        vn_ptr=np.searchsorted(vn_idx, np.arange(num_vns + 1)).astype(np.int32),
        cn_ptr=np.searchsorted(cn_idx[cn_edges], np.arange(pcm.shape[0] + 1)).astype(np.int32),
        cn_edges=cn_edges.astype(np.int32),
    )


_GRAPHS: dict[tuple, LDPCGraph] = {}


def ldpc_graph(encoder: LDPC5GEncoder) -> LDPCGraph:
    """The decoder graph of ``encoder``'s code, cached per code (``k, n``, interleaver, lifting).

    .. code-block:: python

        graph = ldpc_graph(LDPC5GEncoder(512, 1024))
        assert graph.source.size == graph.num_vns
    """
    key = (encoder.k, encoder.n, encoder.num_bits_per_symbol, encoder.z, encoder.n_ldpc)
    if key not in _GRAPHS:
        _GRAPHS[key] = _build(encoder)
    return _GRAPHS[key]
