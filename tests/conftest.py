"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from simulator.data import make_source
from simulator.data.export import export_source
from source_codecs.allocator import keep_freed_memory
from source_codecs.training import CHECKPOINT, LOG, load_checkpoint

keep_freed_memory()  # as the simulator and the trainers run; the suite's networks fault less

TrainMain = Callable[[Sequence[str]], int]
ResumedRun = Callable[..., tuple[dict[str, Any], dict[str, Any], Path]]


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One intra-op thread for a module's tests, then the previous count again: two threads on two
    cores that other test workers share thrash. Use with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def resumed_run(tmp_path: Path) -> ResumedRun:
    """``run(train_main, args, height=, width=, resume_args=())``: a learned codec's training CLI
    for two steps on two synthetic pairs of ``height`` x ``width`` pixels (batch 2, a log line and
    a checkpoint every step), then resumed to step 3 with ``resume_args`` added.

    Checks that each run exits 0, the checkpoints hold steps 2 and 3, the model moved in between
    and the log has a step-3 line; returns both checkpoints and the run folder.
    """

    def run(
        train_main: TrainMain,
        args: Sequence[str],
        *,
        height: int,
        width: int,
        resume_args: Sequence[str] = (),
    ) -> tuple[dict[str, Any], dict[str, Any], Path]:
        data, out = tmp_path / "data", tmp_path / "run"
        source = make_source(
            "synthetic", root=None, num_images=2, height=height, width=width, seed=1
        )
        export_source(source, data)
        common = ["--data", str(data), "--out", str(out), "--batch-size", "2", *args]
        common += ["--log-every", "1", "--checkpoint-every", "1"]
        assert train_main([*common, "--steps", "2"]) == 0
        first = load_checkpoint(out / CHECKPOINT)
        assert train_main([*common, "--steps", "3", "--resume", *resume_args]) == 0
        second = load_checkpoint(out / CHECKPOINT)
        assert (first["step"], second["step"]) == (2, 3)
        assert any(not torch.equal(first["model"][k], v) for k, v in second["model"].items())
        assert "step 3 " in (out / LOG).read_text()
        return first, second, out

    return run
