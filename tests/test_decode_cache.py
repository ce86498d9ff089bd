"""The decoded-image cache of the link: an intact stream is decoded once, whatever the point."""

from __future__ import annotations

import numpy as np

from simulator.config import parse_config
from simulator.link.pipeline import LinkSimulator
from simulator.link.sweep import sweep_points
from simulator.link.transport import DecodeCache, received_key


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
