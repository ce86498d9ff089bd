"""The mIoU segmenter: architecture, shipped weights, training/resume, bring-your-own TorchScript."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from simulator.data import make_source
from simulator.metrics.miou import ConfusionMatrix
from simulator.metrics.segmentation import (
    WEIGHTS_PATH,
    Segmenter,
    SegmenterConfig,
    load_segmenter,
    load_torchscript_segmenter,
    segment,
)
from simulator.metrics.segmentation.model import fuse_batchnorm
from simulator.metrics.segmentation.training.augment import AugmentConfig, augment_batch
from simulator.metrics.segmentation.training.sampling import CropSampler
from simulator.metrics.segmentation.training.train import class_weights, parse_args, train
from simulator.metrics.segmentation.training.widen import widen
from simulator.metrics.segmentation.weights_io import load_weights, save_weights

TINY = SegmenterConfig(widths=(4, 8, 8, 16), decoder_width=8, context_dilations=(1, 2))


@pytest.mark.parametrize("size", [(64, 128), (50, 70)])
def test_logits_have_input_size(size):
    net = Segmenter(TINY).eval()
    with torch.no_grad():
        logits = net(torch.rand(2, 3, *size))
    assert logits.shape == (2, 19, *size)
    assert logits.dtype == torch.float32


def _randomise_batchnorm(net: nn.Module) -> nn.Module:
    """Non-trivial running statistics and affine parameters in every batch norm of ``net``."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.normal_()
            m.bias.data.normal_()
    return net


def test_fused_batchnorm_gives_same_logits():
    torch.manual_seed(0)
    net = _randomise_batchnorm(Segmenter(TINY)).eval()
    x = torch.rand(1, 3, 48, 96)
    with torch.no_grad():
        before = net(x)
        after = fuse_batchnorm(net)(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)


def test_class_weights_favour_rare_classes():
    labels = np.zeros((10, 10), dtype=np.uint8)
    labels[0, :2] = 5  # rare
    labels[1:3] = 2
    labels[9] = 255  # ignored, not counted
    w = class_weights(labels)
    assert w.shape == (19,)
    assert w[5] > w[2] > w[0]
    assert w[7] == 1.0  # absent


def test_class_weights_cap():
    labels = np.zeros((100, 100), dtype=np.uint8)
    labels[0, 0] = 3  # 1e-4 of the pixels: (1e-4 / median)^-1/2 is far above any cap
    labels[50:] = 1
    assert class_weights(labels)[3] == pytest.approx(4.0)
    assert class_weights(labels, cap=8.0)[3] == pytest.approx(8.0)


def test_rare_class_crops_contain_the_rare_class():
    rng = np.random.default_rng(0)
    labels = np.zeros((6, 64, 128), dtype=np.uint8)
    labels[:, 32:] = 1
    labels[4, 60:62, 120:123] = 12  # a rider in one scene, in a corner
    labels[2, 5:7, 3:5] = 17  # a motorcycle in another
    sampler = CropSampler(labels, 19, rare_prob=1.0)
    assert sorted(sampler.rare_classes.tolist()) == [12, 17]
    images = np.zeros((6, 64, 128, 3), dtype=np.uint8)
    config = AugmentConfig(crop=(16, 16), p_jpeg=0, p_downscale=0, p_blur=0, p_noise=0)
    for _ in range(40):
        index, centre = sampler.draw(rng)
        assert index in (2, 4) and labels[index][centre] in (12, 17)
        _, crop = augment_batch([images[index]], [labels[index]], config, rng, [centre])
        assert crop.shape == (1, 16, 16) and int(labels[index][centre]) in crop.unique().tolist()
    # Uniform draws (rare_prob 0) never carry a centre, and cover every scene.
    uniform = CropSampler(labels, 19, rare_prob=0.0)
    draws = [uniform.draw(rng) for _ in range(200)]
    assert all(c is None for _, c in draws) and {i for i, _ in draws} == set(range(6))


def test_focus_weights_steer_rare_draws():
    rng = np.random.default_rng(1)
    labels = np.zeros((6, 64, 128), dtype=np.uint8)
    labels[:, 32:] = 1
    labels[4, 60:62, 120:123] = 12
    labels[2, 5:7, 3:5] = 17
    sampler = CropSampler(labels, 19, rare_prob=1.0, class_weights={12: 9.0})
    hits = [labels[i][c] for i, c in (sampler.draw(rng) for _ in range(400))]
    assert 0.85 < np.mean(np.array(hits) == 12) < 0.95  # 9:1 odds, 0.9 expected
    with pytest.raises(SystemExit):
        parse_args(["--out", "x.pt", "--focus-class", "unicorn=2"])
    assert parse_args(["--out", "x.pt", "--focus-class", "rider=3"]).focus_weights == {12: 3.0}


def test_missing_weights_raise_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="segmentation.train"):
        load_segmenter(path=tmp_path / "nope.pt")


def test_shipped_weights_load_and_are_small():
    assert WEIGHTS_PATH.stat().st_size < 16 * 2**20
    net = load_segmenter()
    assert not net.training
    _, meta = load_weights(WEIGHTS_PATH)
    assert meta["val_miou"] > 0.35 and meta["steps"] > 0


def test_shipped_segmenter_recognises_held_out_scenes():
    source = make_source("synthetic", root=None, num_images=4, height=256, width=512, seed=123,
                         split="test")  # fmt: skip
    samples = [source[i] for i in range(len(source))]
    images = torch.from_numpy(np.stack([s.image for s in samples])).permute(0, 3, 1, 2) / 255.0
    pred = segment(images.float())
    assert pred.shape == (4, 256, 512) and pred.dtype == torch.int64
    labels = torch.from_numpy(np.stack([s.labels for s in samples]).astype(np.int64))
    matched = ConfusionMatrix(num_classes=19, ignore_index=255)
    matched.update(pred, labels)
    # Shipped weights: val mIoU 0.49 (48 scenes), 0.46 on these 4; see benchmarks/results/segmenter.md.
    assert matched.miou() > 0.35
    # Scored against another scene's labels, the same predictions must do much worse: the
    # segmenter reads the image, it does not just paint the typical street layout.
    shuffled = ConfusionMatrix(num_classes=19, ignore_index=255)
    shuffled.update(pred, labels.roll(1, dims=0))
    assert shuffled.miou() < matched.miou() - 0.15


def _tiny_args(tmp_path, name, steps):
    return parse_args([
        "--out", str(tmp_path / name / "seg.pt"), "--steps", str(steps), "--batch", "2",
        "--height", "32", "--width", "64", "--num-scenes", "4", "--num-val", "2",
        "--widths", "4", "8", "8", "16", "--decoder-width", "8", "--workers", "0",
        "--log-every", "1", "--eval-every", "100", "--checkpoint-every", "1", "--threads", "1",
    ])  # fmt: skip


class _Interrupt(Exception):
    pass


def test_training_runs_and_resumes_exactly(tmp_path):
    straight = train(_tiny_args(tmp_path, "a", 3), log=lambda line: None)
    assert straight["steps"] == 3 and np.isfinite(straight["final_loss"])
    ref, _ = load_weights(tmp_path / "a" / "seg.pt")

    def stop_after_two(line):
        if line.startswith("step 2/"):
            raise _Interrupt

    args = _tiny_args(tmp_path, "b", 3)
    with pytest.raises(_Interrupt):
        train(args, log=stop_after_two)
    ckpt = tmp_path / "b" / "seg.ckpt"
    assert torch.load(ckpt, weights_only=False)["step"] == 2
    args.resume = ckpt
    lines = []
    resumed = train(args, log=lines.append)
    assert any("resumed" in line and "step 2" in line for line in lines)
    assert resumed["steps"] == 3
    net, _ = load_weights(tmp_path / "b" / "seg.pt")
    for (name, a), b in zip(ref.state_dict().items(), net.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, msg=name)


def test_restart_schedule_runs_the_given_steps_after_the_checkpoint(tmp_path):
    args = _tiny_args(tmp_path, "c", 2)
    train(args, log=lambda line: None)
    args.resume, args.restart_schedule, args.steps = tmp_path / "c" / "seg.ckpt", True, 3
    lines = []
    summary = train(args, log=lines.append)
    assert summary["steps"] == 5  # cumulative: 2 before, 3 after the restart
    # The fresh schedule warms up again: the first step after the restart has a small rate.
    first = next(line for line in lines if line.startswith("step 3/5"))
    assert float(first.split("lr ")[1].split()[0]) < 0.1 * args.lr


TINY_FULL = replace(TINY, full_width=16)
WIDENINGS = {
    "full_width": replace(TINY_FULL, full_width=32),
    "dilation": replace(TINY_FULL, context_dilations=(1, 2, 3)),
    "both": replace(TINY_FULL, full_width=24, context_dilations=(1, 2, 1, 4)),
}


@pytest.mark.parametrize("name", WIDENINGS)
def test_widened_segmenter_gives_the_same_logits(name, tmp_path):
    torch.manual_seed(0)
    net = _randomise_batchnorm(Segmenter(TINY_FULL)).eval()
    wide = widen(net, WIDENINGS[name])
    assert not wide.training and wide.config == WIDENINGS[name]
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in net.parameters())
    features = {}
    for key, model in (("old", net), ("new", wide)):  # what the context and full-res paths give
        for stage in ("stride16", "fuse1"):
            getattr(model, stage).register_forward_hook(
                lambda m, i, out, k=(key, stage): features.__setitem__(k, out)
            )
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        before, after = net(x), wide(x)
        torch.testing.assert_close(after, before, rtol=0, atol=1e-5)
        # The appended blocks are identities; the old channels of the full-res path are unchanged.
        torch.testing.assert_close(features["new", "stride16"], features["old", "stride16"])
        torch.testing.assert_close(features["new", "fuse1"][:, :16], features["old", "fuse1"])
        # It saves and loads (batch norms folded) like any other segmenter.
        save_weights(tmp_path / "wide.pt", wide, {})
        torch.testing.assert_close(load_segmenter(path=tmp_path / "wide.pt")(x), before,
                                   rtol=1e-4, atol=1e-4)  # fmt: skip


def test_widened_segmenter_learns_in_its_new_channels():
    torch.manual_seed(1)
    net = _randomise_batchnorm(Segmenter(TINY_FULL))
    wide = widen(net, WIDENINGS["both"]).train()
    optimizer = torch.optim.AdamW(wide.parameters(), lr=1e-2)
    x, y = torch.rand(2, 3, 32, 32), torch.randint(0, 19, (2, 32, 32))
    appended = wide.stride16[-1]  # the last appended block (dilation 4)
    for step in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(wide(x), y).backward()
        grads = {
            "classifier": wide.classifier.weight.grad[:, 16:],
            "appended gamma": appended.pointwise[1].weight.grad,
            "stem": wide.stride1[0].weight.grad[16:],
            "lateral": wide.fuse1.lateral[0].weight.grad[16:],
            "appended conv": appended.pointwise[0].weight.grad,
        }
        # The first step reaches the zeroed weights only, the second all new channels.
        for key, grad in list(grads.items())[: 2 if step == 0 else None]:
            assert grad.abs().sum() > 0, (step, key)
        optimizer.step()


@pytest.mark.parametrize(
    "change, match",
    [
        ({"full_width": 8}, "full_width 16 -> 8"),
        ({"widths": (4, 8, 8, 32)}, "widths"),
        ({"decoder_width": 16}, "decoder_width"),
        ({"context_dilations": (1,)}, "appended"),
        ({"context_dilations": (2, 1, 4)}, "appended"),
    ],
)
def test_widen_refuses_anything_else(change, match):
    with pytest.raises(ValueError, match=match):
        widen(Segmenter(TINY_FULL), replace(TINY_FULL, **change))


def test_widen_refuses_a_new_full_resolution_path_and_folded_batchnorm():
    with pytest.raises(ValueError, match="full_width 0 -> 16"):
        widen(Segmenter(TINY), TINY_FULL)
    with pytest.raises(ValueError, match="folded"):
        widen(fuse_batchnorm(Segmenter(TINY_FULL).eval()), WIDENINGS["full_width"])


def test_training_resumes_into_a_wider_network(tmp_path):
    args = _tiny_args(tmp_path, "w", 1)
    args.full_width = 4
    train(args, log=lambda line: None)
    args.resume, args.steps = tmp_path / "w" / "seg.ckpt", 1
    args.full_width, args.context_dilations = 8, [1, 2, 4, 8, 2]
    with pytest.raises(ValueError, match="--restart-schedule"):
        train(args, log=lambda line: None)
    args.restart_schedule = True
    lines = []
    assert train(args, log=lines.append)["steps"] == 2
    assert any(
        "resumed" in line and "widened full_width 4 -> 8, context_dilations" in line
        for line in lines
    )
    net, _ = load_weights(tmp_path / "w" / "seg.pt")
    assert net.config == SegmenterConfig(widths=(4, 8, 8, 16), decoder_width=8,
                                         context_dilations=(1, 2, 4, 8, 2), full_width=8)  # fmt: skip
    args.widths = [4, 8, 8, 8]
    with pytest.raises(ValueError, match="cannot widen widths"):
        train(args, log=lambda line: None)


class _ColourNet(nn.Module):
    """3 'classes' scored by the red, green and blue channels, at half resolution."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 10 * nn.functional.avg_pool2d(x, 2)


def test_torchscript_segmenter_with_class_map(tmp_path):
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(_ColourNet()), str(path))
    image = torch.zeros(1, 3, 8, 16)
    image[:, 0, :, :8] = 1.0  # red left half
    image[:, 1, :, 8:] = 1.0  # green right half

    net = load_torchscript_segmenter(path, ["road", 13, None])
    logits = net(image)
    assert logits.shape == (1, 19, 8, 16)
    pred = segment(image, net)
    assert (pred[0, :, :8] == 0).all() and (pred[0, :, 8:] == 13).all()

    # Dict form: only mapped outputs count; red -> sky, green dropped, blue -> car.
    net = load_torchscript_segmenter(path, {0: 10, 2: "car"}, num_outputs=3)
    pred = segment(image, net)
    assert (pred[0, :, :8] == 10).all()
    assert set(pred[0, :, 8:].unique().tolist()) <= {10, 13}

    # Two outputs of one trainId combine as log-sum-exp (summed probabilities).
    net = load_torchscript_segmenter(path, [0, 0, 1])
    grey = torch.full((1, 3, 2, 2), 0.1)
    expected = torch.logsumexp(torch.tensor([1.0, 1.0]), 0)
    torch.testing.assert_close(net(grey)[0, 0], torch.full((2, 2), float(expected)))


def test_torchscript_class_map_errors(tmp_path):
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(_ColourNet()), str(path))
    with pytest.raises(ValueError, match="not a trainId"):
        load_torchscript_segmenter(path, [0, 42, 1])
    with pytest.raises(ValueError, match="unknown class"):
        load_torchscript_segmenter(path, ["road", "spaceship", 1])
    with pytest.raises(ValueError, match="3 output channels"):
        load_torchscript_segmenter(path, [0, 1], num_outputs=3)
    with pytest.raises(ValueError, match="channels"):
        load_torchscript_segmenter(path, [0, 1])(torch.rand(1, 3, 4, 4))
    with pytest.raises(FileNotFoundError):
        load_torchscript_segmenter(tmp_path / "missing.pt", [0])
