"""Sources without label maps: the semantic GAN's transmitter segments each image with the shipped
segmenter, and mIoU is measured against that segmenter's prediction on the original image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from simulator.config import parse_config
from simulator.data import make_source
from simulator.link.pipeline import LinkSimulator
from simulator.link.scoring import Scorer, segment_images
from simulator.link.sweep import sweep_points
from simulator.metrics.segmentation import load_segmenter
from source_codecs import CodecConfigError, make_codec

CPU = torch.device("cpu")
SIZE = {"height": 64, "width": 128}
QPSK = {"modulation": "qpsk", "code_rate": 0.5}


class CountingSegmenter(torch.nn.Module):
    """The shipped segmenter, counting the images it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = load_segmenter()
        self.images = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.images += x.shape[0]
        return self.inner(x)


@pytest.mark.parametrize(
    ("choice", "labelled", "unlabelled"),
    [("auto", "labels", "segmenter"), ("labels", "labels", "labels")]
    + [("segmenter", "segmenter", "segmenter")],
)
def test_semantic_map_param_says_where_the_map_comes_from(choice, labelled, unlabelled):
    codec = make_codec("semantic_gan", {"semantic_map": choice})
    assert (codec.semantic_map(True), codec.semantic_map(False)) == (labelled, unlabelled)
    assert make_codec("semantic_gan").params["semantic_map"] == "auto"
    assert make_codec("jpeg").semantic_map(False) is None  # a codec that codes no map


def test_semantic_map_param_is_validated():
    with pytest.raises(CodecConfigError, match="semantic_map: expected one of 'auto', 'labels'"):
        make_codec("semantic_gan", {"semantic_map": "segmentor"})


def test_folder_without_labels_codes_the_segmenters_map(tmp_path: Path):
    photos = make_source("samples", root=None, num_images=2, seed=0, **SIZE)
    for i in range(len(photos)):
        Image.fromarray(photos[i].image).save(tmp_path / f"{i}.png")
    config = parse_config(
        {
            "data": {"source": "folder", "root": str(tmp_path), "num_images": 2, **SIZE},
            "codecs": [{"name": "semantic_gan", "params": {"rate": "low"}}],
            "link": {"bandwidth_ratio": "1/12", "snr_db": [20], "mcs": QPSK, "base_mcs": QPSK},
            "metrics": ["miou"],
        }
    )
    simulator = LinkSimulator(config, log=lambda _msg: None)
    assert all(s.labels is None for s in simulator.samples)
    predicted = segment_images(load_segmenter(), [s.image for s in simulator.samples], CPU)
    coded = simulator.coded_samples(config.codecs[0].display_name)
    assert all(np.array_equal(c.labels, p) for c, p in zip(coded, predicted, strict=True))
    assert np.array_equal(simulator.scorer.miou_targets([0, 1]), predicted)
    result = simulator.run_point(sweep_points(config)[0])
    assert {row["status"] for row in result.per_image} == {"ok"}
    assert result.summary["miou_reference"] == "segmenter"
    assert 0 <= result.summary["miou"] < 1


def test_reference_maps_are_predicted_once_per_run():
    samples = [make_source("samples", root=None, num_images=2, seed=0, **SIZE)[i] for i in (0, 1)]
    segmenter = CountingSegmenter()
    scorer = Scorer(["miou"], samples, CPU, segmenter)
    assert scorer.miou_reference == "segmenter"
    originals = [s.image for s in samples]
    first = scorer.score_point(originals)
    assert first.summary["miou"] == 1.0 and [v["miou"] for v in first.per_image] == [1.0, 1.0]
    assert segmenter.images == 4  # the two references, then the two reconstructions
    second = scorer.score_point([np.flip(im, 1).copy() for im in originals])
    assert segmenter.images == 6 and second.summary["miou"] < 1  # references not predicted again
    labelled = make_source("synthetic", root=None, num_images=1, seed=0, **SIZE)
    truth = Scorer(["miou"], [labelled[0]], CPU, segmenter)
    assert truth.miou_reference == "labels"
    assert np.array_equal(truth.miou_targets([0])[0], labelled[0].labels)
