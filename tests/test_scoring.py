"""Scoring a point: batches of images, caching, and results that never depend on the scorer's history."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from simulator.data import make_source
from simulator.link.scoring import Scorer, metric_batch_size, to_tensor
from simulator.link.threads import side_by_side
from simulator.metrics import ConfusionMatrix, make_image_metric
from simulator.metrics.segmentation import load_segmenter

METRICS = ["psnr", "lpips", "miou", "fid", "kid"]
SAMPLES = list(
    make_source("synthetic", root=None, num_images=4, height=64, width=128, seed=0, split="test")
)
SEGMENTER = load_segmenter("cpu")


def _reconstructions(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    noisy = [
        np.clip(s.image + rng.normal(0, 12, s.image.shape), 0, 255).astype(np.uint8)
        for s in SAMPLES
    ]
    return [*noisy[:3], SAMPLES[3].image]  # the last one error-free


def _scorer(batch_size: int) -> Scorer:
    return Scorer(METRICS, SAMPLES, torch.device("cpu"), SEGMENTER, batch_size)


def _alone(job):
    """``job()`` as the scorer computes every image on the CPU with one or two torch threads: on
    one torch thread, in inference mode."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            return job()
    finally:
        torch.set_num_threads(threads)


POINTS = [_reconstructions(1), _reconstructions(2), _reconstructions(1)]
POINTS.append([POINTS[0][1], POINTS[0][0], POINTS[1][2], POINTS[1][3]])  # seen, at other indices


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_points_scores_do_not_depend_on_what_the_scorer_saw_before(batch_size) -> None:
    forward, backward = _scorer(batch_size), _scorer(batch_size)  # the points in opposite orders
    ahead = [forward.score_point(images) for images in POINTS]
    behind = [backward.score_point(images) for images in reversed(POINTS)][::-1]
    for a, b in zip(ahead, behind, strict=True):
        assert a.per_image == b.per_image and a.summary == b.summary
    calls = len(forward._cache)
    assert forward.score_point(POINTS[0]).summary == ahead[0].summary
    assert len(forward._cache) == calls  # served from the cache


def test_batches_agree_with_one_image_at_a_time() -> None:
    single, batched = _scorer(1), _scorer(3)
    for images in POINTS:
        a, b = single.score_point(images), batched.score_point(images)
        for one, many in zip(a.per_image, b.per_image, strict=True):
            for name in ("psnr", "lpips"):
                assert many[name] == pytest.approx(one[name], rel=1e-4, abs=1e-6)
            assert abs(many["miou"] - one["miou"]) < 1e-3  # argmax may flip on exact ties only
        for name in ("fid", "kid"):
            assert b.summary[name] == pytest.approx(a.summary[name], rel=1e-3, abs=1e-6)


def test_per_image_values_are_those_of_the_image_and_its_own_reference() -> None:
    images = _reconstructions(3)
    scores = _scorer(1).score_point(images)
    lpips = make_image_metric("lpips", torch.device("cpu"))
    for i, (sample, image) in enumerate(zip(SAMPLES, images, strict=True)):
        ref, rec = to_tensor([sample.image], "cpu"), to_tensor([image], "cpu")
        expected = float(_alone(lambda ref=ref, rec=rec: lpips(ref, rec))[0])
        cm = ConfusionMatrix(19)
        labels = torch.from_numpy(sample.labels.astype(np.int64))[None]
        cm.update(_alone(lambda rec=rec: SEGMENTER(rec).argmax(1)), labels)
        assert scores.per_image[i]["lpips"] == expected
        assert scores.per_image[i]["miou"] == cm.miou()
    assert scores.per_image[3]["lpips"] < 1e-6 < scores.per_image[0]["lpips"]
    assert math.isinf(scores.per_image[3]["psnr"]) or scores.per_image[3]["psnr"] >= 99


def test_the_cpu_scores_one_image_per_pass_a_gpu_in_batches() -> None:
    assert metric_batch_size(torch.device("cpu")) == 1
    assert metric_batch_size(torch.device("cuda:0")) > 1


def test_prepared_references_give_the_numbers_of_scoring_afresh(monkeypatch) -> None:
    """LPIPS against references prepared once per run == LPIPS of (reference, reconstruction)
    computed afresh, to the last bit; beyond the cache's bound the references are prepared again."""
    import simulator.link.scoring as scoring

    warm = _scorer(1)
    calls = []
    lpips = warm.image_metrics["lpips"]
    monkeypatch.setattr(
        lpips, "reference", lambda ref: calls.append(1) or type(lpips).reference(lpips, ref)
    )
    cached = [warm.score_point(images) for images in POINTS[:2]]
    assert len(calls) == len(SAMPLES)  # once per reference, not once per point
    assert all(t.dtype == torch.float32 for t in warm._prepared[("lpips", (0,))])
    monkeypatch.setattr(scoring, "REFERENCE_CACHE_BYTES", 0)  # nothing kept: everything afresh
    for images, scores in zip(POINTS[:2], cached, strict=True):
        cold = _scorer(1)
        afresh = cold.score_point(images)
        assert not cold._prepared
        assert afresh.per_image == scores.per_image and afresh.summary == scores.summary
        ref = to_tensor([s.image for s in SAMPLES], "cpu")
        direct = [
            float(_alone(lambda i=i, im=im, r=ref: lpips(r[i : i + 1], to_tensor([im], "cpu")))[0])
            for i, im in enumerate(images)
        ]
        assert [v["lpips"] for v in scores.per_image] == direct


class ThreadRecordingSegmenter(torch.nn.Module):
    """The shipped segmenter, noting the Python thread and the torch thread count of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((threading.current_thread().name, torch.get_num_threads()))
        return SEGMENTER(x)


def test_side_by_side_shares_the_threads_between_two_jobs_at_most() -> None:
    assert [side_by_side(t) for t in (1, 2, 3, 4, 16)] == [(1, 1), (2, 1), (2, 1), (2, 2), (2, 8)]


def test_the_cpu_scores_images_side_by_side_one_torch_thread_each_whatever_the_count() -> None:
    """With 2 torch threads the scorer runs 2 Python threads of one torch thread each, with 1 one
    in the calling thread; it restores the count and gives bit-identical numbers either way."""
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            segmenter = ThreadRecordingSegmenter()
            scorer = Scorer(METRICS, SAMPLES, torch.device("cpu"), segmenter, 1)
            results.append([scorer.score_point(images) for images in POINTS[:2]])
            assert torch.get_num_threads() == count
            assert {n for _, n in segmenter.calls} == {1}
            names = {name for name, _ in segmenter.calls}
            assert len(names) == count and (count == 1 or all(n.startswith("side") for n in names))
    finally:
        torch.set_num_threads(threads)
    for one, two in zip(*results, strict=True):
        assert one.per_image == two.per_image and one.summary == two.summary
