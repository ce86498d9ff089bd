"""Source codecs: registry, parameters, round trips, rate control, budgets, isolation of decoders."""

from __future__ import annotations

import ctypes
import os
import pickle
import time
from collections import Counter

import numpy as np
import pytest
from corruption import CORRUPTIONS, corrupt_stream
from skimage.data import astronaut

from source_codecs import (
    BudgetTooSmall,
    CodecConfigError,
    CodecRecipe,
    DecodeError,
    SafeDecoder,
    SourceCodec,
    available_codecs,
    check_image,
    fit_to_budget,
    make_codec,
    register_codec,
    safe_decode,
)
from source_codecs.base import network_batches
from source_codecs.classical.pillow_codec import PillowCodec

H, W = 64, 96
IMAGE = np.ascontiguousarray(astronaut()[100 : 100 + H, 150 : 150 + W])  # uint8 [64, 96, 3]
LOSSY = ["jpeg", "webp", "jpeg2000"]
BUDGETS = [400, 600, 900, 1400, 2200]  # bytes; 0.5 .. 2.9 bpp at 64x96


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


# --- test-only codecs whose decoders misbehave on purpose ------------------------------------


class _MisbehavingCodec(SourceCodec):
    def encode(self, image, max_bytes, *, labels=None):
        return b"\x00"


@register_codec("test_hang")
class HangingCodec(_MisbehavingCodec):
    def decode(self, data, height, width):
        time.sleep(3600)


@register_codec("test_crash")
class CrashingCodec(_MisbehavingCodec):
    def decode(self, data, height, width):
        ctypes.string_at(0)  # reads address 0: a real segmentation fault


@register_codec("test_bad_shape")
class BadShapeCodec(_MisbehavingCodec):
    def decode(self, data, height, width):
        return np.zeros((height, width), dtype=np.float32)


class FlatCodec(_MisbehavingCodec):
    """Decodes to a flat image of ``level``, a keyword of its own constructor (not a Param)."""

    def __init__(self, level: int = 0, **params) -> None:
        super().__init__(**params)
        self.level = level

    def decode(self, data, height, width):
        return np.full((height, width, 3), self.level, np.uint8)


@pytest.fixture(scope="module")
def decoder():
    with SafeDecoder() as d:
        yield d


# --- registry and parameters ---------------------------------------------------------------


def test_builtin_codecs_are_listed():
    assert {"jpeg", "jpeg2000", "original", "webp"} <= set(available_codecs())
    assert available_codecs() == sorted(available_codecs())
    assert make_codec("jpeg").name == "jpeg" and make_codec("original").kind == "reference"


def test_unknown_codec_is_one_readable_line_listing_choices():
    with pytest.raises(CodecConfigError) as info:
        make_codec("jpg")
    message = str(info.value)
    assert "'jpg'" in message and "jpeg, jpeg2000" in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("jpeg", {"quality": 200}, "quality: expected an integer in 1..95, got 200"),
        ("jpeg", {"quality": True}, "quality: expected an integer"),
        ("jpeg", {"subsampling": "4:1:1"}, "subsampling: expected one of '4:2:0', '4:2:2'"),
        ("webp", {"qualty": 5}, "unknown parameter 'qualty'; webp accepts: method, quality"),
        ("jpeg2000", {"bpp": "high"}, "bpp: expected a number in 0.01..24.0, got 'high'"),
        ("original", {"quality": 5}, "original accepts: no parameters"),
        ("semantic_gan", {"map_scale": "half"}, "map_scale: expected one of 'auto', 1.0, 0.5"),
        ("semantic_gan", {"map_scale": 0.3}, "got 0.3"),
        ("jpeg", [1, 2], "must be a mapping"),
    ],
)
def test_bad_params_name_the_param_and_allowed_values(name, params, expected):
    with pytest.raises(CodecConfigError) as info:
        make_codec(name, params)
    assert expected in str(info.value)


def test_params_get_defaults_and_types():
    assert make_codec("jpeg").params == {
        "quality": 75,
        "subsampling": "4:2:0",
        "progressive": False,
    }
    bpp = make_codec("jpeg2000", {"bpp": 2}).params["bpp"]
    assert bpp == 2.0 and isinstance(bpp, float)
    # A numeric parameter's named choice is kept as given, its numbers become floats.
    assert make_codec("semantic_gan").params["map_scale"] == "auto"
    assert make_codec("semantic_gan", {"map_scale": "auto"}).params["map_scale"] == "auto"
    scale = make_codec("semantic_gan", {"map_scale": 1}).params["map_scale"]
    assert scale == 1.0 and isinstance(scale, float)


def test_encoder_rejects_malformed_images():
    with pytest.raises(ValueError, match="uint8"):
        check_image(IMAGE.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        make_codec("jpeg").encode(IMAGE[..., 0], 1000)


# --- rate control --------------------------------------------------------------------------


@pytest.mark.parametrize("start", [None, 0, 37, 99])
def test_fit_to_budget_finds_the_largest_fitting_knob(start):
    sizes = [50 + 10 * k + (k % 3) for k in range(100)]  # increasing, uneven steps
    calls = Counter()

    def encode(k):
        calls[k] += 1
        return b"x" * sizes[k]

    for budget in range(50, 1100, 13):
        knob, stream = fit_to_budget(encode, range(100), budget, start=start)
        assert stream == encode(knob)
        assert len(stream) <= budget
        assert knob == 99 or sizes[knob + 1] > budget
    with pytest.raises(BudgetTooSmall) as info:
        fit_to_budget(encode, range(100), 49, start=start, codec="toy")
    assert info.value.min_bytes == 50 and "toy" in str(info.value)


def test_fit_to_budget_with_a_good_guess_encodes_few_times():
    encodes = []
    fit_to_budget(lambda k: encodes.append(k) or b"x" * k, range(1, 100_001), 50_000, start=49_990)
    assert len(encodes) <= 12  # bisection over all 100k settings would need 17


def test_jpeg2000_first_guess_lands_where_a_full_bisection_does():
    """The search from JPEG 2000's first guess (above the budget) finds the same boundary as a
    bisection over every requested size, in fewer encodes than from the budget itself."""
    codec = make_codec("jpeg2000")
    counts = {"guess": 0, "budget": 0}
    knobs = codec.knobs(IMAGE)

    def write(knob, key):
        counts[key] += 1
        return codec.write(IMAGE, knob)

    for budget in (350, 900, 2000):
        everything = fit_to_budget(lambda k: codec.write(IMAGE, k), knobs, budget)
        guessed = fit_to_budget(
            lambda k: write(k, "guess"), knobs, budget, start=codec.first_guess(IMAGE, budget)
        )
        plain = fit_to_budget(lambda k: write(k, "budget"), knobs, budget, start=budget - 1)
        assert guessed == everything == plain and len(guessed[1]) <= budget
    assert counts["guess"] < counts["budget"]


@pytest.mark.parametrize("name", ["bpg", "webp", "jpeg2000"])
def test_rate_control_reuses_earlier_encodes_with_the_same_bytes(name, monkeypatch):
    """Budgets of one image share their knob settings' encodes (:data:`KNOB_STREAMS`), and every
    stream is byte for byte the one rate control finds encoding everything afresh."""
    from source_codecs.rate_control import KNOB_STREAMS

    KNOB_STREAMS.clear()
    codec = make_codec(name)
    writes = Counter()
    write = codec.write
    monkeypatch.setattr(
        codec, "write", lambda image, knob: writes.update([knob]) or write(image, knob)
    )
    budgets = [*BUDGETS, *BUDGETS[::-1], 700, 1000]
    cached = [(codec.encode(IMAGE, b), codec.last_knob) for b in budgets]
    assert max(writes.values()) == 1  # each setting of this image encoded once
    fresh_writes = 0
    for budget, (stream, knob) in zip(budgets, cached, strict=True):
        afresh = []
        expected = fit_to_budget(
            lambda k, afresh=afresh: afresh.append(k) or write(IMAGE, k),
            codec.knobs(IMAGE),
            budget,
            start=codec.first_guess(IMAGE, budget),
        )
        fresh_writes += len(afresh)
        assert (knob, stream) == expected
    assert sum(writes.values()) < fresh_writes
    other = IMAGE.copy()
    other[0, 0] ^= 1  # another image: its own streams, never this one's
    assert (
        codec.encode(other, BUDGETS[2])
        == fit_to_budget(
            lambda k: write(other, k),
            codec.knobs(other),
            BUDGETS[2],
            start=codec.first_guess(other, BUDGETS[2]),
        )[1]
    )


def test_stream_cache_is_bounded_by_bytes():
    from source_codecs.rate_control import StreamCache

    cache, calls = StreamCache(max_bytes=250), []
    write = cache.memoized("toy", IMAGE, lambda k: calls.append(k) or b"x" * 100)
    for k in (1, 2, 1, 3, 1, 2):
        assert write(k) == b"x" * 100
    assert len(cache) == 2 and calls == [1, 2, 3, 2]  # 2 was least recently used when 3 came


# --- codecs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSY)
def test_default_quality_round_trip(name):
    codec = make_codec(name)
    stream = codec.encode(IMAGE, None)
    decoded = codec.decode(stream, H, W)
    assert decoded.shape == (H, W, 3) and decoded.dtype == np.uint8
    assert 29.0 < psnr(IMAGE, decoded) < 45.0  # lossy, but a faithful picture
    assert 8 * len(stream) / (H * W) < 4.0


@pytest.mark.parametrize("name", LOSSY)
def test_budgets_are_respected_and_used(name):
    codec = make_codec(name)
    quality = []
    for budget in BUDGETS:
        stream = codec.encode(IMAGE, budget)
        assert len(stream) <= budget
        assert len(stream) >= 0.85 * budget  # rate control does not leave bytes on the table
        quality.append(psnr(IMAGE, codec.decode(stream, H, W)))
    assert all(b >= a for a, b in zip(quality, quality[1:], strict=False)), quality
    assert quality[-1] - quality[0] > 5.0


@pytest.mark.parametrize(("name", "floor"), [("jpeg", 300), ("webp", 150), ("jpeg2000", 100)])
def test_budget_below_the_floor_raises(name, floor):
    with pytest.raises(BudgetTooSmall) as info:
        make_codec(name).encode(IMAGE, floor)
    assert info.value.min_bytes > floor and info.value.codec == name


def test_jpeg_quality_param_sets_default_size():
    low, high = (make_codec("jpeg", {"quality": q}).encode(IMAGE, None) for q in (20, 90))
    assert len(low) < len(high)


@pytest.mark.parametrize(
    ("name", "knob", "marker"), [("jpeg", 50, b"\xff\xe0"), ("jpeg2000", 700, b"\xff\x64")]
)
def test_informational_header_segment_is_dropped_losslessly(name, knob, marker):
    codec = make_codec(name)
    pillow = PillowCodec.write(codec, IMAGE, knob)  # as Pillow writes it: JFIF APP0 / J2K comment
    sent = codec.write(IMAGE, knob)
    at = pillow.index(marker)
    segment = 2 + int.from_bytes(pillow[at + 2 : at + 4], "big")
    assert sent == pillow[:at] + pillow[at + segment :]  # exactly that segment, nothing else
    assert marker not in sent[: at + 4]
    np.testing.assert_array_equal(codec.decode(sent, H, W), codec.decode(pillow, H, W))


def test_original_is_exact_and_24_bpp():
    codec = make_codec("original")
    stream = codec.encode(IMAGE, None)
    assert 8 * len(stream) / (H * W) == 24
    np.testing.assert_array_equal(codec.decode(stream, H, W), IMAGE)
    with pytest.raises(BudgetTooSmall):
        codec.encode(IMAGE, len(stream) - 1)
    with pytest.raises(DecodeError):
        codec.decode(stream[:-1], H, W)


def test_decode_batch_is_decode_with_none_for_streams_that_do_not_decode():
    codec = make_codec("jpeg")
    good = codec.encode(IMAGE, 1500)
    images = codec.decode_batch([good, b"not a jpeg", good[:-1], good], H, W)
    np.testing.assert_array_equal(images[0], codec.decode(good, H, W))
    assert images[1] is None and images[-1] is not None


def test_network_batches_group_keys_in_order_and_cap_the_size():
    keys = ["q2", "q1", None, "q2", "q2", "q1", None, "q2"]
    assert list(network_batches(keys, 2)) == [[0, 3], [4, 7], [1, 5]]
    assert list(network_batches(keys, 1)) == [[0], [3], [4], [7], [1], [5]]
    assert list(network_batches([None, None], 4)) == []


@pytest.mark.parametrize("name", LOSSY)
def test_decode_rejects_wrong_size_and_foreign_streams(name):
    codec = make_codec(name)
    with pytest.raises(DecodeError, match="expected 90x64"):
        codec.decode(codec.encode(IMAGE, 1000), H, 90)
    other = "webp" if name != "webp" else "jpeg"
    with pytest.raises(DecodeError):
        codec.decode(make_codec(other).encode(IMAGE, 1000), H, W)


# --- isolation -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSY)
def test_safe_decode_survives_corrupted_streams(decoder, name):
    stream = make_codec(name).encode(IMAGE, 900)
    rng = np.random.default_rng(7)
    counts = Counter()
    for _ in range(40):
        bad = corrupt_stream(stream, CORRUPTIONS[rng.integers(len(CORRUPTIONS))], rng)
        outcome = decoder.decode(name, {}, bad, H, W, timeout_s=10)
        counts[outcome.status] += 1
        if outcome.ok:
            assert outcome.image.shape == (H, W, 3) and outcome.image.dtype == np.uint8
        else:
            assert outcome.image is None and outcome.message
    assert set(counts) <= {"ok", "exception", "timeout", "crash"}, counts
    assert counts["exception"] >= 5, counts  # truncations at least are detected
    clean = decoder.decode(name, {}, stream, H, W)
    assert clean.ok and psnr(IMAGE, clean.image) > 25


def test_worker_is_reused_then_replaced_after_hang_and_crash(decoder):
    stream = make_codec("jpeg").encode(IMAGE, 900)
    assert decoder.decode("jpeg", {}, stream, H, W).ok
    pid, started = decoder.worker_pid, decoder.workers_started
    assert decoder.decode("jpeg", {}, stream, H, W).ok
    assert decoder.worker_pid == pid  # one persistent worker

    hung = decoder.decode("test_hang", {}, b"x", H, W, timeout_s=0.5)
    assert hung.status == "timeout" and hung.image is None
    crashed = decoder.decode("test_crash", {}, b"x", H, W, timeout_s=30)
    assert crashed.status == "crash" and "-11" in crashed.message  # SIGSEGV
    bad = decoder.decode("test_bad_shape", {}, b"x", H, W, timeout_s=30)
    assert bad.status == "bad_shape" and "float32 [64, 96]" in bad.message

    assert decoder.decode("jpeg", {}, stream, H, W).ok
    assert decoder.workers_started == started + 2  # one replacement per hang and per crash


def test_close_ends_the_worker():
    with SafeDecoder() as own:
        assert own.decode("webp", {}, b"RIFF", H, W).status == "exception"
        pid = own.worker_pid
    assert own.worker_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_decode_with_a_codec_builds_it_from_its_recipe_in_the_worker(decoder):
    codec = make_codec("jpeg", {"quality": 40})
    assert codec.recipe == CodecRecipe.of(type(codec), quality=40)
    assert pickle.loads(pickle.dumps(codec.recipe)).build().params == codec.params
    stream = codec.encode(IMAGE, None)
    started = decoder.workers_started
    outcome = decoder.decode_with(codec, stream, H, W)
    assert outcome.ok and np.array_equal(outcome.image, codec.decode(stream, H, W))
    assert decoder.decode_with(codec.recipe, stream[:50], H, W).status == "exception"
    # The recipe holds what the constructor was given, its own keywords too.
    flat = decoder.decode_with(FlatCodec(level=7), b"x", H, W, timeout_s=30)
    assert flat.ok and np.all(flat.image == 7)
    assert decoder.workers_started == started  # every decode went to the one worker


def test_trusted_decoder_runs_in_process_with_the_same_checks(decoder):
    started = decoder.workers_started
    ok = decoder.decode("original", {}, IMAGE.tobytes(), H, W)
    short = decoder.decode("original", {}, IMAGE.tobytes()[:-3], H, W)
    assert ok.ok and np.array_equal(ok.image, IMAGE)
    assert short.status == "exception" and "DecodeError" in short.message
    assert decoder.workers_started == started


def test_safe_decode_with_torch_threads_in_the_parent():
    torch = pytest.importorskip("torch")
    torch.ones(256, 256) @ torch.ones(256, 256)  # start torch's thread pool in this process
    stream = make_codec("jpeg2000").encode(IMAGE, 900)
    outcome = safe_decode("jpeg2000", {}, stream, H, W, timeout_s=30)
    assert outcome.ok and outcome.image.shape == (H, W, 3)


def test_safe_decode_checks_name_and_params_before_decoding():
    with pytest.raises(CodecConfigError, match="unknown codec"):
        safe_decode("nope", {}, b"", H, W)
    with pytest.raises(CodecConfigError, match="quality"):
        safe_decode("jpeg", {"quality": 0}, b"", H, W)
