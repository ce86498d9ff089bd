"""The modern classical codecs (bpg, vvc, avif, jpegxl), their helpers, and corrupted-stream fuzzing of
every classical codec through the isolated decoder."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from corruption import CORRUPTIONS, corrupt_stream
from skimage.data import astronaut

from source_codecs import BudgetTooSmall, CodecConfigError, DecodeError, make_codec, safe_decode
from source_codecs.classical.annexb import (
    HEVC_DROPPABLE,
    VVC_DROPPABLE,
    drop_nal_units,
    hevc_nal_type,
    split_nal_units,
    vvc_nal_type,
)
from source_codecs.classical.jpegxl import jxl_declared_size
from source_codecs.classical.knob_codec import KnobCodec
from source_codecs.classical.ycbcr import pad_to_even, planes_to_rgb, rgb_to_planes

H, W = 64, 96
IMAGE = np.ascontiguousarray(astronaut()[100 : 100 + H, 150 : 150 + W])  # uint8 [64, 96, 3]
MODERN = {"bpg": {}, "vvc": {"preset": "faster"}, "avif": {}, "jpegxl": {}}
CLASSICAL = {"jpeg": {}, "webp": {}, "jpeg2000": {}, **MODERN}
BUDGETS = [700, 1000, 1500, 2300]  # bytes; 0.9 .. 3 bpp at 64x96 (AVIF/JXL floors are ~500 B)
FUZZ_CASES = 36  # per codec: 7 codecs -> 252 corrupted streams


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def codec(name: str):
    return make_codec(name, MODERN[name])


# --- parameters ------------------------------------------------------------------------------


def test_modern_codecs_are_registered_with_documented_defaults():
    assert make_codec("bpg").params == {"qp": 29, "chroma": "4:2:0", "preset": "slow"}
    assert make_codec("vvc").params["qp"] == 32 and make_codec("vvc").params["preset"] == "fast"
    assert make_codec("avif").params == {"quality": 75, "speed": 6, "chroma": "4:2:0"}
    assert make_codec("jpegxl").params == {"distance": 1.0, "effort": 7}


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("bpg", {"chroma": "4:2:2"}, "chroma: expected one of '4:2:0', '4:4:4'"),
        ("bpg", {"qp": 52}, "qp: expected an integer in 0..51"),
        ("vvc", {"qp": 64}, "qp: expected an integer in 0..63"),
        ("vvc", {"chroma": "4:4:4"}, "unknown parameter 'chroma'"),
        ("avif", {"speed": 11}, "speed: expected an integer in 0..10"),
        ("jpegxl", {"distance": 30}, "distance: expected a number in 0.1..25.0"),
    ],
)
def test_bad_params_are_one_readable_line(name, params, expected):
    with pytest.raises(CodecConfigError) as info:
        make_codec(name, params)
    assert expected in str(info.value) and "\n" not in str(info.value)


# --- round trips and rate control --------------------------------------------------------------


@pytest.mark.parametrize("name", MODERN)
def test_default_quality_round_trip(name):
    c = codec(name)
    stream = c.encode(IMAGE, None)
    decoded = c.decode(stream, H, W)
    assert decoded.shape == (H, W, 3) and decoded.dtype == np.uint8
    assert 30.0 < psnr(IMAGE, decoded) < 45.0
    if isinstance(c, KnobCodec):  # avif is a PillowCodec, which does not record its knob
        assert stream == c.write(IMAGE, c.last_knob)  # the default knob, deterministic


@pytest.mark.parametrize("name", MODERN)
def test_budgets_are_respected_used_and_recorded(name):
    c = codec(name)
    quality, knobs = [], []
    for budget in BUDGETS:
        stream = c.encode(IMAGE, budget)
        assert len(stream) <= budget
        assert len(stream) >= 0.7 * budget  # integer knobs land below, not far below
        if isinstance(c, KnobCodec):  # the knob it reached is the one recorded
            assert stream == c.write(IMAGE, c.last_knob)
            knobs.append(c.last_knob)
        quality.append(psnr(IMAGE, c.decode(stream, H, W)))
    assert all(b >= a for a, b in zip(quality, quality[1:], strict=False)), quality
    assert quality[-1] - quality[0] > 3.0, quality
    assert len(set(knobs)) == len(knobs)  # each budget reached a different setting


@pytest.mark.parametrize(
    ("name", "floor"), [("bpg", 60), ("vvc", 60), ("avif", 300), ("jpegxl", 200)]
)
def test_budget_below_the_floor_raises(name, floor):
    with pytest.raises(BudgetTooSmall) as info:
        codec(name).encode(IMAGE, floor)
    assert info.value.codec == name and info.value.min_bytes > floor


@pytest.mark.parametrize("name", ["bpg", "vvc"])
def test_odd_sizes_are_padded_then_cropped(name):
    image = IMAGE[:63, :95]
    c = codec(name)
    decoded = c.decode(c.encode(image, None), 63, 95)
    assert decoded.shape == (63, 95, 3) and psnr(image, decoded) > 30


def test_bpg_444_keeps_more_colour_than_420():
    # A colour edge every other column: 4:2:0 averages it away, 4:4:4 keeps it.
    image = np.zeros((H, W, 3), np.uint8)
    image[:, ::2, 0] = 255
    image[:, 1::2, 2] = 255
    errors = {}
    for chroma in ("4:2:0", "4:4:4"):
        c = make_codec("bpg", {"chroma": chroma, "qp": 10})
        errors[chroma] = psnr(image, c.decode(c.encode(image, None), H, W))
    assert errors["4:4:4"] > errors["4:2:0"] + 10, errors


@pytest.mark.parametrize("name", MODERN)
def test_decode_rejects_wrong_size_and_foreign_streams(name):
    c = codec(name)
    stream = c.encode(IMAGE, 1500)
    with pytest.raises(DecodeError, match="expected"):
        c.decode(stream, H, W + 2)
    other = "vvc" if name == "bpg" else "bpg"
    with pytest.raises(DecodeError):
        c.decode(codec(other).encode(IMAGE, 1500), H, W)


# --- what is sent: Annex B NAL units, JPEG XL header ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "nal_type", "droppable", "kept"),
    [
        ("bpg", hevc_nal_type, HEVC_DROPPABLE, [32, 33, 34, 20]),  # VPS SPS PPS IDR_N_LP
        ("vvc", vvc_nal_type, VVC_DROPPABLE, [15, 16, 7]),  # SPS PPS IDR_W_RADL
    ],
)
def test_stream_is_parameter_sets_and_one_slice(name, nal_type, droppable, kept):
    c = codec(name)
    planes = rgb_to_planes(IMAGE, "4:2:0", c.bit_depth)
    raw = c.encode_planes(planes, 35)  # what the encoder wrote
    sent = c.write(IMAGE, 35)
    raw_units = split_nal_units(raw)
    assert b"".join(code + unit for code, unit in raw_units) == raw
    assert [nal_type(unit) for _, unit in split_nal_units(sent)] == kept
    assert {nal_type(unit) for _, unit in raw_units} - set(kept) <= droppable
    assert sent == drop_nal_units(raw, droppable, nal_type)
    np.testing.assert_array_equal(c.decode(sent, H, W), c.decode(raw, H, W))


def test_drop_nal_units_removes_exactly_those_units():
    units = [(b"\x00\x00\x00\x01", b"\x40\x01\xaa"), (b"\x00\x00\x01", b"\x4e\x01\xbb\xcc")]
    units.append((b"\x00\x00\x01", b"\x26\x01\xdd"))  # VPS, prefix SEI, IDR slice
    stream = b"".join(code + unit for code, unit in units)
    assert split_nal_units(stream) == units
    assert [hevc_nal_type(u) for _, u in units] == [32, 39, 19]
    assert drop_nal_units(stream, HEVC_DROPPABLE, hevc_nal_type) == stream.replace(
        b"".join(units[1]), b""
    )


@pytest.mark.parametrize("shape", [(64, 96), (63, 95), (8, 8), (256, 512), (1000, 17), (40, 1)])
def test_jpegxl_declared_size_is_read_before_decoding(shape):
    image = np.ascontiguousarray(np.resize(IMAGE, (*shape, 3)))
    stream = make_codec("jpegxl").encode(image, None)
    assert jxl_declared_size(stream) == (shape[1], shape[0])
    assert (
        jxl_declared_size(b"\xff\xd8" + stream[2:]) is None
        and jxl_declared_size(b"\xff\x0a") is None
    )


# --- colour conversion ---------------------------------------------------------------------------


def test_ycbcr_round_trip_and_subsampling():
    exact = planes_to_rgb(rgb_to_planes(IMAGE, "4:4:4", 10), 10)
    np.testing.assert_array_equal(exact, IMAGE)  # 10-bit 4:4:4 loses nothing
    near = planes_to_rgb(rgb_to_planes(IMAGE, "4:4:4", 8), 8)
    assert np.abs(near.astype(int) - IMAGE).max() <= 1
    y, cb, cr = rgb_to_planes(IMAGE, "4:2:0", 8)
    assert y.shape == (H, W) and cb.shape == cr.shape == (H // 2, W // 2) and y.dtype == np.uint8
    assert psnr(IMAGE, planes_to_rgb([y, cb, cr], 8)) > 35
    grey = np.full((4, 6, 3), 128, np.uint8)
    assert {int(v) for p in rgb_to_planes(grey, "4:2:0", 8) for v in np.unique(p)} == {128}
    assert pad_to_even(IMAGE[:63, :95]).shape == (64, 96, 3)
    with pytest.raises(ValueError, match="even"):
        rgb_to_planes(IMAGE[:63], "4:2:0", 8)


# --- corrupted streams through the isolated decoder ---------------------------------------------------


@pytest.mark.parametrize("name", CLASSICAL)
def test_safe_decode_survives_truncated_and_bit_flipped_streams(name):
    params = CLASSICAL[name]
    stream = make_codec(name, params).encode(IMAGE, 900)
    rng = np.random.default_rng(2026)
    counts = Counter()
    for i in range(FUZZ_CASES):
        outcome = safe_decode(
            name, params, corrupt_stream(stream, CORRUPTIONS[i % 3], rng), H, W, timeout_s=15
        )
        counts[outcome.status] += 1
        if outcome.ok:
            assert outcome.image.shape == (H, W, 3) and outcome.image.dtype == np.uint8
        else:
            assert outcome.image is None and outcome.message
    print(f"{name}: {dict(counts)}")
    assert sum(counts.values()) == FUZZ_CASES
    assert set(counts) <= {"ok", "exception", "timeout", "crash", "bad_shape"}, counts
    assert counts["exception"] >= FUZZ_CASES // 6, counts  # truncations at least are detected
    clean = safe_decode(name, params, stream, H, W)  # the decoder still works afterwards
    assert clean.ok and psnr(IMAGE, clean.image) > 25


def test_corrupt_stream_kinds():
    rng = np.random.default_rng(0)
    stream = bytes(range(200))
    cut = [corrupt_stream(stream, "truncate", rng) for _ in range(50)]
    assert all(0 < len(c) < len(stream) and stream.startswith(c) for c in cut)
    for kind, span in (("flip_anywhere", 200), ("flip_header", 32)):
        for _ in range(50):
            flipped = corrupt_stream(stream, kind, rng)
            diff = np.frombuffer(flipped, np.uint8) ^ np.frombuffer(stream, np.uint8)
            changed = np.flatnonzero(diff)
            assert len(flipped) == len(stream) and 1 <= len(changed) and changed.max() < span
    with pytest.raises(ValueError, match="truncate"):
        corrupt_stream(stream, "erase", rng)
