"""The link's caches: an intact stream is decoded once, whatever the point; a point's images are
encoded once per budget, side by side where the codec allows it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from simulator.config import parse_config
from simulator.data import make_source
from simulator.link.pipeline import LinkSimulator
from simulator.link.sweep import sweep_points
from simulator.link.transport import DecodeCache, EncodeCache, received_key
from source_codecs import make_codec
from source_codecs.rate_control import KNOB_STREAMS
from source_codecs.semantic_gan import codec as semantic_gan_codec


def test_cache_decodes_each_key_once_and_evicts_the_oldest() -> None:
    calls: list[list[int]] = []
    images = {k: np.full((2, 2, 3), k, np.uint8) for k in range(4)}

    def decode(keys: list[int]):
        def run(todo: list[int]) -> list[np.ndarray | None]:
            calls.append([keys[j] for j in todo])
            return [None if keys[j] == 3 else images[keys[j]] for j in todo]

        return run

    cache = DecodeCache(max_bytes=2 * 12)  # room for two 2x2x3 images
    out = cache.decode([0, 1, 0], decode([0, 1, 0]))
    assert calls == [[0, 1, 0]] and [int(o[0, 0, 0]) for o in out] == [0, 1, 0]
    assert cache.decode([1, 0], decode([1, 0])) and calls == [[0, 1, 0]]  # both cached
    cache.decode([2, 3], decode([2, 3]))  # 2 evicts the least recently used (1); None is free
    assert calls[-1] == [2, 3] and cache.decode([3], decode([3])) == [None]
    cache.decode([1, 0], decode([1, 0]))
    assert calls[-1] == [1]


def test_received_key_tells_lost_from_empty_and_masks_apart() -> None:
    assert received_key(b"ab", None) != received_key(b"ab", b"")
    assert received_key(b"a", b"b") != received_key(b"ab", None)
    mask = np.array([True, False])
    assert received_key(b"ab", mask) != received_key(b"ab", ~mask)


def test_intact_streams_at_two_points_are_decoded_once(monkeypatch) -> None:
    config = parse_config(
        {
            "data": {"source": "synthetic", "num_images": 2, "height": 64, "width": 128},
            "codecs": [{"name": "jpeg"}],
            "link": {
                "bandwidth_ratio": "1/3",
                "snr_db": [30.0, 40.0],
                "mcs": {"modulation": "qpsk", "code_rate": 0.5},
            },  # fmt: skip
            "channel": {"model": "awgn"},
            "metrics": ["psnr"],
            "output": {"plots": False, "gallery_images": 0},
        }
    )
    simulator = LinkSimulator(config, log=lambda _: None)
    codec = simulator.transports["jpeg"].codec
    decoded: list[int] = []
    original = codec.decode_batch

    def counting(streams, height, width):
        decoded.append(len(streams))
        return original(streams, height, width)

    monkeypatch.setattr(codec, "decode_batch", counting)
    first, second = (simulator.run_point(p) for p in sweep_points(config))
    assert first.summary["bler"] == second.summary["bler"] == 0.0  # both error-free
    assert decoded == [2]  # the second point's identical streams came from the cache
    assert first.summary["psnr"] == second.summary["psnr"]


@pytest.mark.parametrize("name", ["bpg", "semantic_gan", "jpeg"])
def test_a_points_images_are_encoded_side_by_side_where_the_codec_allows(name, monkeypatch):
    """BPG and the semantic GAN (``concurrent_encodes``) encode a point's images on as many threads
    as torch has, JPEG on the calling thread; either way each stream is the one encoding that
    image alone gives, a budget too small is None, and cached streams are not encoded again."""
    samples = list(make_source("synthetic", root=None, num_images=4, height=64, width=128, seed=0))
    codec = make_codec(name)
    threads: list[str] = []
    encode = codec.encode
    monkeypatch.setattr(
        codec,
        "encode",
        lambda *a, **k: threads.append(threading.current_thread().name) or encode(*a, **k),
    )
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    forget_streams()
    try:
        cache = EncodeCache()
        streams = cache.encode_all(name, codec, samples, 600)
        assert torch.get_num_threads() == 2
        tiny = cache.encode_all(name, codec, samples, 1)
    finally:
        torch.set_num_threads(previous)
    side_by_side = len(set(threads)) == 2 and threading.main_thread().name not in threads
    assert side_by_side == codec.concurrent_encodes == (name != "jpeg")
    assert tiny == [None] * 4 and all(0 < len(s) <= 600 for s in streams)
    forget_streams()
    fresh = make_codec(name)
    torch.set_num_threads(1)  # as each of two side by side had
    try:
        alone = [fresh.encode(s.image, 600, labels=s.labels) for s in samples]
    finally:
        torch.set_num_threads(previous)
    assert streams == alone  # each alone, after one another
    count = len(threads)
    assert cache.encode_all(name, codec, samples, 600) == streams and len(threads) == count


def forget_streams() -> None:
    """Empty the codecs' memos, so that every stream is encoded afresh."""
    KNOB_STREAMS.clear()
    semantic_gan_codec._MEMO.clear()
    semantic_gan_codec._FINER.clear()
