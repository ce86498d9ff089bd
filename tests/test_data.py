"""Data sources: synthetic scenes, scikit-image photos, image folders, Cityscapes layout."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from simulator.data import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    IGNORE_INDEX,
    NUM_CLASSES,
    DataConfigError,
    SyntheticScenes,
    colorize_labels,
    make_source,
)
from simulator.data.cityscapes import CITYSCAPES_MEAN, label_ids_to_train_ids
from simulator.data.synthetic.canvas import Canvas
from simulator.data.synthetic.categorical import Categorical
from simulator.data.synthetic.shapes import box_grid, ellipse, polygon

VALID = set(range(19)) | {IGNORE_INDEX}


def synthetic(n=4, h=96, w=192, seed=0, split="test"):
    return make_source(
        "synthetic", root=None, num_images=n, height=h, width=w, seed=seed, split=split
    )


def test_class_table_and_palette():
    assert len(CITYSCAPES_CLASSES) == NUM_CLASSES == 19 and CITYSCAPES_CLASSES[13] == "car"
    assert CITYSCAPES_PALETTE.shape == (19, 3) and CITYSCAPES_PALETTE.dtype == np.uint8
    assert tuple(CITYSCAPES_PALETTE[0]) == (128, 64, 128)
    colored = colorize_labels(np.array([[0, 255]], dtype=np.uint8))
    assert colored.tolist() == [[[128, 64, 128], [0, 0, 0]]]


def test_synthetic_deterministic_per_seed_and_index():
    a, b = synthetic(), synthetic()
    for i in (0, 3):
        assert np.array_equal(a[i].image, b[i].image)
        assert np.array_equal(a[i].labels, b[i].labels)
    assert not np.array_equal(a[0].image, a[1].image)
    assert not np.array_equal(a[0].image, synthetic(seed=1)[0].image)
    assert a[-1].image_id == a[3].image_id != a[0].image_id
    with pytest.raises(IndexError):
        a[4]


def test_splits_use_different_scenes():
    images = {split: synthetic(n=2, split=split) for split in ("train", "val", "test")}
    for s1, s2 in (("train", "val"), ("train", "test"), ("val", "test")):
        for i in range(2):
            assert not np.array_equal(images[s1][i].image, images[s2][i].image)
            assert images[s1][i].image_id != images[s2][i].image_id


def test_synthetic_labels_and_class_diversity():
    source = synthetic(n=20, h=128, w=256, seed=3)
    assert source.has_labels
    counts = []
    for sample in source:
        assert sample.image.dtype == np.uint8 and sample.image.shape == (128, 256, 3)
        assert sample.labels.dtype == np.uint8 and sample.labels.shape == (128, 256)
        present = set(np.unique(sample.labels).tolist())
        assert present <= VALID
        assert {0, 2, 10} <= present  # road, building or end-of-street facade, sky
        counts.append(len(present - {IGNORE_INDEX}))
    assert np.mean(counts) >= 12, counts


@pytest.mark.parametrize("shape", [(37, 91), (64, 64), (150, 60), (16, 512)])
def test_synthetic_any_size(shape):
    sample = synthetic(n=1, h=shape[0], w=shape[1])[0]
    assert sample.image.shape == (*shape, 3) and sample.labels.shape == shape
    assert set(np.unique(sample.labels).tolist()) <= VALID


def test_synthetic_same_scene_at_any_resolution():
    """Drawn in normalised coordinates: a 2x render shows the same layout (same label mix)."""
    small, large = synthetic(n=1, h=64, w=128)[0].labels, synthetic(n=1, h=128, w=256)[0].labels
    agree = np.mean(small == large[::2, ::2])
    assert agree > 0.9


def test_synthetic_mean_color_is_fixed_per_source():
    a, b = synthetic(seed=0), synthetic(seed=5, split="train", h=32, w=32)
    assert a.mean_color.shape == (3,) and a.mean_color.dtype == np.float64
    assert np.array_equal(a.mean_color, b.mean_color)
    assert np.all((a.mean_color > 30) & (a.mean_color < 225))


def test_canvas_writes_labels_with_the_pixels():
    canvas = Canvas(40, 60, np.random.default_rng(0))
    canvas.paint(
        polygon((40, 60), np.array([5.0, 50, 30]), np.array([5.0, 10, 35])),
        np.array([200, 10, 10]),
        13,
        texture=0.2,
    )
    canvas.paint(ellipse((40, 60), 30, 20, 8, 6), np.array([10, 200, 10]), 8)
    painted = canvas.image.sum(axis=0) > 0
    assert np.array_equal(painted, canvas.labels != IGNORE_INDEX)
    red, green = canvas.image[0] > 100, canvas.image[1] > 100
    assert np.array_equal(red, canvas.labels == 13) and np.array_equal(green, canvas.labels == 8)
    assert (canvas.labels == 8).sum() > 100 and (canvas.labels == 13).sum() > 100


def _half_planes(xs, ys, yc, xc):
    """Reference for :func:`polygon`: the edges of a convex polygon tested one by one in float32."""
    n = len(xs)
    area = sum(xs[k] * ys[(k + 1) % n] - xs[(k + 1) % n] * ys[k] for k in range(n))
    sign = 1.0 if area >= 0 else -1.0
    inside = np.ones((yc.shape[0], xc.shape[1]), dtype=bool)
    for k in range(n):
        ax, ay, bx, by = xs[k], ys[k], xs[(k + 1) % n], ys[(k + 1) % n]
        a, b = sign * (bx - ax), sign * (by - ay)
        inside &= a * yc - b * xc >= np.float32(a * ay - b * ax)
    return inside


def test_polygon_matches_edge_by_edge_half_planes():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(3, 13))
        t = np.sort(rng.uniform(0, 2 * np.pi, n))[:: int(rng.choice([1, -1]))]
        radius = rng.uniform(0.2, 30) * (rng.random() < 0.9)  # some collapse to a point
        xs = (rng.uniform(-10, 70) + radius * np.cos(t)).tolist()
        ys = (rng.uniform(-10, 50) + radius * np.sin(t)).tolist()
        region, grid = (
            polygon((40, 60), xs, ys),
            box_grid((40, 60), min(xs), min(ys), max(xs), max(ys)),
        )
        inside = None if grid is None else _half_planes(xs, ys, grid[2], grid[3])
        if inside is None or not inside.any():
            assert region is None
        else:
            assert (region.top, region.left) == grid[:2]
            assert np.array_equal(region.mask, inside)


def test_categorical_draws_what_generator_choice_draws():
    options, weights = ("gap", "wall", "fence", "hedge"), (0.35, 0.25, 0.25, 0.15)
    categorical = Categorical(options, weights)
    fast, reference = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(2000):
        assert categorical.draw(fast) == str(reference.choice(options, p=weights))
    assert fast.random() == reference.random()  # both streams at the same place
    with pytest.raises(ValueError):
        Categorical(options, (0.5, 0.5, 0.5, 0.5))


def test_samples_source_cycles_skimage_photos():
    source = make_source("samples", root=None, num_images=20, height=48, width=80, seed=0)
    assert len(source) == 20 and not source.has_labels
    first = source[0]
    assert first.image.shape == (48, 80, 3) and first.labels is None
    ids = [source[i].image_id for i in range(20)]
    assert len(set(ids)) == 20
    n = len(source.photos)
    assert np.array_equal(source[n].image, first.image) and ids[n].startswith(ids[0])
    assert np.allclose(source.mean_color, [123.675, 116.28, 103.53])


def _write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_source_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    for name, shape in (("b", (60, 90)), ("a", (40, 80)), ("c", (50, 50))):
        _write_png(tmp_path / f"{name}.png", rng.integers(0, 255, (*shape, 3), dtype=np.uint8))
        labels = np.zeros(shape, dtype=np.uint8)
        labels[:, shape[1] // 2 :] = 13
        labels[0, 0] = 255
        _write_png(tmp_path / "labels" / f"{name}.png", labels)
    (tmp_path / "notes.txt").write_text("not an image")
    source = make_source("folder", root=str(tmp_path), num_images=10, height=20, width=40, seed=0)
    assert len(source) == 3 and source.has_labels
    assert [source[i].image_id for i in range(3)] == ["a", "b", "c"]
    sample = source[0]
    assert sample.image.shape == (20, 40, 3) and sample.labels.shape == (20, 40)
    assert set(np.unique(sample.labels).tolist()) <= {0, 13, 255}  # nearest neighbour only
    assert (sample.labels[:, :18] == 0).all() and (sample.labels[:, 22:] == 13).all()
    assert (
        len(make_source("folder", root=str(tmp_path), num_images=2, height=8, width=8, seed=0)) == 2
    )


def test_folder_source_errors(tmp_path):
    with pytest.raises(DataConfigError, match="not a directory"):
        make_source("folder", root=str(tmp_path / "nope"), num_images=1, height=8, width=8, seed=0)
    with pytest.raises(DataConfigError, match="no image"):
        make_source("folder", root=str(tmp_path), num_images=1, height=8, width=8, seed=0)
    _write_png(tmp_path / "x.jpg", np.zeros((8, 8, 3), dtype=np.uint8))
    (tmp_path / "labels").mkdir()
    with pytest.raises(DataConfigError, match="lack a label map"):
        make_source("folder", root=str(tmp_path), num_images=1, height=8, width=8, seed=0)
    _write_png(tmp_path / "labels" / "x.png", np.full((8, 8), 40, dtype=np.uint8))
    source = make_source("folder", root=str(tmp_path), num_images=1, height=8, width=8, seed=0)
    with pytest.raises(DataConfigError, match="not trainIds"):
        source[0]
    with pytest.raises(DataConfigError, match="needs a root"):
        make_source("folder", root=None, num_images=1, height=8, width=8, seed=0)


def test_cityscapes_layout_and_label_mapping(tmp_path):
    rng = np.random.default_rng(1)
    for city, frame in (("bonn", "000001"), ("aachen", "000002"), ("aachen", "000001")):
        stem = f"{city}_000000_{frame}"
        image = rng.integers(0, 255, (64, 128, 3), dtype=np.uint8)
        _write_png(tmp_path / "leftImg8bit" / "val" / city / f"{stem}_leftImg8bit.png", image)
        label_ids = np.full((64, 128), 7, dtype=np.uint8)  # road
        label_ids[:, 64:] = 26  # car
        label_ids[:8] = 1  # ego vehicle: ignored
        _write_png(tmp_path / "gtFine" / "val" / city / f"{stem}_gtFine_labelIds.png", label_ids)
    source = make_source(
        "cityscapes", root=str(tmp_path), num_images=5, height=32, width=64, seed=0, split="val"
    )
    assert len(source) == 3 and source.has_labels
    assert [source[i].image_id for i in range(3)] == [
        "aachen_000000_000001",
        "aachen_000000_000002",
        "bonn_000000_000001",
    ]
    labels = source[0].labels
    assert labels.shape == (32, 64) and set(np.unique(labels).tolist()) == {0, 13, 255}
    assert (
        (labels[:4] == 255).all() and (labels[8:, :30] == 0).all() and (labels[8:, 34:] == 13).all()
    )
    assert np.allclose(source.mean_color, CITYSCAPES_MEAN)
    table = label_ids_to_train_ids(np.arange(34, dtype=np.uint8))
    assert table[[7, 8, 11, 23, 24, 33]].tolist() == [0, 1, 2, 10, 11, 18]
    assert int((table != 255).sum()) == 19


def test_cityscapes_errors(tmp_path):
    with pytest.raises(DataConfigError, match="leftImg8bit"):
        make_source("cityscapes", root=str(tmp_path), num_images=1, height=8, width=8, seed=0)
    image = np.zeros((8, 16, 3), dtype=np.uint8)
    _write_png(tmp_path / "leftImg8bit" / "test" / "berlin" / "berlin_0_1_leftImg8bit.png", image)
    (tmp_path / "gtFine" / "test" / "berlin").mkdir(parents=True)
    with pytest.raises(DataConfigError, match="lack gtFine"):
        make_source("cityscapes", root=str(tmp_path), num_images=1, height=8, width=8, seed=0)


def test_make_source_rejects_bad_settings():
    with pytest.raises(DataConfigError, match="unknown source 'synthtic'"):
        make_source("synthtic", root=None, num_images=1, height=8, width=8, seed=0)
    with pytest.raises(DataConfigError, match="unknown split"):
        make_source("synthetic", root=None, num_images=1, height=8, width=8, seed=0, split="dev")
    with pytest.raises(DataConfigError, match="num_images"):
        make_source("samples", root=None, num_images=0, height=8, width=8, seed=0)
    assert isinstance(SyntheticScenes(1, 8, 8, 0, "test")[0].labels, np.ndarray)
