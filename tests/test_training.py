"""The learned codecs' shared run loop: compact, split, resumable checkpoints."""

from __future__ import annotations

import pytest
import torch

from source_codecs import training


def _adam_run(betas: tuple[float, float]) -> tuple[torch.nn.Module, torch.optim.Adam]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 8))
    opt = torch.optim.Adam(net.parameters(), 1e-2, betas=betas)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(16, 64)).square().mean().backward()
        opt.step()
    return net, opt


def test_compact_state_halves_moments_and_drops_the_first_when_beta1_is_zero():
    _, opt = _adam_run((0.0, 0.9))
    compact = training.compact_optimizer_state(opt.state_dict())
    for index, moments in compact["state"].items():
        assert "exp_avg" not in moments
        assert moments["exp_avg_sq"].dtype == torch.bfloat16
        full = opt.state_dict()["state"][index]["exp_avg_sq"]
        torch.testing.assert_close(moments["exp_avg_sq"].float(), full, rtol=1e-2, atol=0)
    _, opt = _adam_run((0.9, 0.99))
    kept = training.compact_optimizer_state(opt.state_dict())["state"][0]
    assert kept["exp_avg"].dtype == torch.bfloat16


def test_checkpoint_splits_under_the_part_limit_and_resumes(tmp_path, monkeypatch):
    net, opt = _adam_run((0.0, 0.9))
    # 64 x 64 fp32 weights are 16 kB: a 20 kB limit forces the model and the optimiser apart.
    monkeypatch.setattr(training, "CHECKPOINT_PART_BYTES", 20_000)
    state = {"step": 3, "model": net.state_dict(), "opt": opt.state_dict(), "note": "x"}
    paths = training.save_checkpoint(state, tmp_path / training.CHECKPOINT)
    assert len(paths) >= 2 and all(p.is_file() for p in paths)
    assert not list(tmp_path.glob("*.tmp"))
    for p in paths:
        part = torch.load(p, weights_only=False)
        assert training._payload_bytes(part) <= 20_000
    loaded = training.load_checkpoint(tmp_path / training.CHECKPOINT)
    assert loaded["step"] == 3 and loaded["note"] == "x"
    for k, v in net.state_dict().items():
        assert torch.equal(loaded["model"][k], v)  # weights stay exact (fp32)

    # The resumed optimiser takes the same step as the original, up to the bf16 moments.
    net2, opt2 = _adam_run((0.0, 0.9))
    net2.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["opt"])
    x = torch.randn(16, 64)
    for n, o in ((net, opt), (net2, opt2)):
        o.zero_grad()
        n(x).square().mean().backward()
        o.step()
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-4)


def test_checkpoint_refuses_parts_of_different_steps(tmp_path, monkeypatch):
    net, opt = _adam_run((0.0, 0.9))
    monkeypatch.setattr(training, "CHECKPOINT_PART_BYTES", 20_000)
    path = tmp_path / training.CHECKPOINT
    training.save_checkpoint({"step": 3, "model": net.state_dict(), "opt": opt.state_dict()}, path)
    first = torch.load(path, weights_only=False)
    training.save_checkpoint({"step": 4, "model": net.state_dict(), "opt": opt.state_dict()}, path)
    torch.save(first, path)  # as if a crash had left part 0 of step 3 beside part 1 of step 4
    with pytest.raises(ValueError, match="step"):
        training.load_checkpoint(path)


def test_slim_checkpoint_keeps_fp16_weights_drops_moments_and_resumes(tmp_path):
    net, opt = _adam_run((0.0, 0.9))
    state = {"step": 3, "model": net.state_dict(), "opt_g": opt.state_dict()}
    full = training.save_checkpoint(state, tmp_path / "full.pt")
    slim = training.save_checkpoint(state, tmp_path / "slim.pt", slim=True)
    assert slim[0].stat().st_size < 0.6 * full[0].stat().st_size
    loaded = training.load_checkpoint(tmp_path / "slim.pt")
    weight = loaded["model"]["0.weight"]  # 64 x 64 = 4096 elements: stored in fp16
    assert weight.dtype == torch.float16
    assert loaded["model"]["0.bias"].dtype == torch.float32  # small tensors stay as they are
    torch.testing.assert_close(weight.float(), net.state_dict()["0.weight"], rtol=1e-3, atol=1e-5)
    assert loaded["opt_g"]["state"] == {}

    # A fresh model and optimiser take the slim state, and the next step is Adam's first step.
    net2, opt2 = _adam_run((0.0, 0.9))
    net2.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["opt_g"])
    assert next(net2.parameters()).dtype == torch.float32
    opt2.zero_grad()
    net2(torch.randn(16, 64)).square().mean().backward()
    before = [p.detach().clone() for p in net2.parameters()]
    opt2.step()
    for b, p in zip(before, net2.parameters(), strict=True):  # Adam's step 1: lr * sign(grad)
        torch.testing.assert_close((p - b).abs().max(), torch.tensor(1e-2), rtol=1e-3, atol=0)


def test_resume_names_a_checkpoint_or_refuses(tmp_path):
    class Restorable:
        step = 0

        def restore(self, state):
            self.step = state["step"]

    trainer = Restorable()
    assert training.resume_or_start(trainer, tmp_path, True) is False  # nothing to continue
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        training.resume_or_start(trainer, tmp_path, tmp_path / "missing.pt")
    training.save_checkpoint({"step": 7}, tmp_path / "elsewhere.pt", slim=True)
    assert training.resume_or_start(trainer, tmp_path, tmp_path / "elsewhere.pt") is True
    assert trainer.step == 7
